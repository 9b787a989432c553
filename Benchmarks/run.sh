#!/usr/bin/env bash
# Occam's speed benchmark (`make bench`): builds OccamBenchmarks in release mode and runs it.
#
#   Benchmarks/run.sh [--json PATH] [--rounds N] [--quick] [--strict] [--reference JSON]
#
# Arguments go to OccamBenchmarks (see the top of Benchmarks/OccamBenchmarks/main.swift). It prints a table of
# Occam against cblas_?gemm, NumPy and PyTorch (2 threads), as speed ratios measured in this one run; the
# NumPy and PyTorch timings come from Benchmarks/reference.py (pip install numpy torch; either missing is
# reported and its comparison skipped). Set OCCAM_PYTHON to use another interpreter than python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# A scratch path of its own, so a benchmark build never collides with a debug build in .build.
swift build -c release --scratch-path .build-bench --product OccamBenchmarks
binary="$(swift build -c release --scratch-path .build-bench --show-bin-path)/OccamBenchmarks"

# OpenBLAS picks its kernels and thread count itself: clear overrides of the kernel choice and cache size.
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$binary" "$@"
