#!/usr/bin/env bash
# Installs the Debian packages Occam needs, if any are missing: apt-get when run as root, otherwise a message
# naming the packages and the command to run. Usage: scripts/install-system-packages.sh [extra packages...]
set -euo pipefail

packages=(pkg-config libopenblas-dev liblapacke-dev zlib1g-dev dataset-fashion-mnist "$@")
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "Installing missing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "Occam needs these system packages, which are not installed: ${missing[*]}" >&2
    echo "Install them with:  sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
