# Occam's entry points. `make demo` and `make test` work on a fresh Debian machine with Swift installed:
# they install missing system packages (as root) and build what they need.

SWIFT ?= swift
OCCAM := .build/release/occam

.PHONY: demo min-norm test bench system-packages build clean

system-packages:
	@scripts/install-system-packages.sh

build: system-packages
	$(SWIFT) build -c release --product occam

# Occam's main job on the default data set: LeNet-300-100 on Fashion-MNIST for 5 epochs (Adam 1.2e-3, batch 60).
# Running it again finds the finished run in runs/ and prints its summary.
demo: build
	$(OCCAM) train --model lenet-300-100 --dataset fashion-mnist --steps 5ep --batch-size 60 --optimizer adam --lr 1.2e-3 --out runs

# The minimum-norm interpolation experiment (Zhang et al. 2017, Sec. 5).
min-norm: build
	$(OCCAM) min-norm

test: system-packages
	@scripts/install-python-packages.sh
	$(SWIFT) test

# Speed against raw OpenBLAS, NumPy and PyTorch on this machine (see Benchmarks/).
bench: system-packages
	Benchmarks/run.sh

clean:
	rm -rf .build .build-*
