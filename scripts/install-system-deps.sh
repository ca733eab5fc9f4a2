#!/usr/bin/env bash
# Installs the Debian packages EntropyInfer builds against, only those that are missing.
# Idempotent and quiet when everything is present (the common case: a few dpkg queries).
set -euo pipefail

packages=(pkg-config libmicrohttpd-dev libjansson-dev libopenblas-dev zlib1g-dev qemu-user libsimde-dev)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "installing missing system packages: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}" >&2
