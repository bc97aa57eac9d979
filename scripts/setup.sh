#!/usr/bin/env bash
# Makes a fresh Debian bookworm machine ready to build and test Tessera. Idempotent:
# every step checks before it acts, so running it twice costs seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

apt_updated=0
apt_update_once() {
  if [ "$apt_updated" = 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
}

# 1. Vulkan driver: Dawn needs Mesa >= 23 (bookworm's Mesa 22 lacks
#    shaderUniform*ArrayDynamicIndexing), so lavapipe comes from bookworm-backports.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 && ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1; then
  if [ ! -f /etc/apt/sources.list.d/bookworm-backports.sources ]; then
    $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  apt_update_once
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
fi

# 2. PyTorch (CPU) from Debian: the parity oracle for fixture scripts and the bench peer.
if ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
  apt_update_once
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi

# 3. pnpm 9 via npm (corepack fails on this machine).
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version | cut -d. -f1)" != "9" ]; then
  npm install -g pnpm@9 >/dev/null
fi

# Dawn wants a writable runtime dir.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/tessera-xdg}"
mkdir -p "$XDG_RUNTIME_DIR"

pnpm install --frozen-lockfile
pnpm build
