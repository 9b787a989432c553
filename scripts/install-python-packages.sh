#!/usr/bin/env bash
# Installs the Python packages Occam's tests use, if python3 cannot import them: safetensors and numpy (the
# checkpoint interoperability tests and the NumPy curvature reference read Occam's files) and tensorboard (the
# TensorBoard export is read back with it).
# Usage: scripts/install-python-packages.sh   (PYTHON=/path/to/python3 to use another interpreter)
set -euo pipefail

python="${PYTHON:-python3}"
packages=(safetensors numpy tensorboard)
missing=()
for package in "${packages[@]}"; do
    if ! "$python" -c "import $package" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Python packages for $python with pip: ${missing[*]}"
if ! log=$("$python" -m pip install --quiet "${missing[@]}" 2>&1); then
    if grep -q "externally-managed-environment" <<<"$log"; then
        # Debian's python3 refuses system-wide pip installs (PEP 668); a per-user install leaves its packages alone.
        echo "$python is managed by the system; installing into the user's site-packages (pip --user) instead"
        "$python" -m pip install --quiet --user --break-system-packages "${missing[@]}"
    else
        echo "$log" >&2
        echo "pip failed. If $python has no pip, install it (Debian: sudo apt-get install python3-pip) and rerun." >&2
        exit 1
    fi
fi
"$python" -c "import safetensors, numpy, tensorboard; print('installed: safetensors', safetensors.__version__, '/ numpy', numpy.__version__, '/ tensorboard', tensorboard.__version__)"
