# Occam's entry points. `make demo` and `make test` work on a fresh Debian machine with Swift installed:
# they install missing system packages (as root) and build what they need.

SWIFT ?= swift
OCCAM := .build/release/occam

.PHONY: demo test bench system-packages build clean

system-packages:
	@scripts/install-system-packages.sh

build: system-packages
	$(SWIFT) build -c release --product occam

# Occam's main job on the default data set.
demo: build
	$(OCCAM) min-norm

test: system-packages
	@scripts/install-python-packages.sh
	$(SWIFT) test

# Speed against raw OpenBLAS, NumPy and PyTorch on this machine (see Benchmarks/).
bench: system-packages
	Benchmarks/run.sh

clean:
	rm -rf .build .build-*
