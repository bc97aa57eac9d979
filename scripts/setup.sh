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
#    A machine with another Vulkan driver (a real GPU) and no Mesa is left alone.
mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
other_icd=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | grep -v -e lvp_ -e intel -e radeon -e virtio -e gfxstream || true)
if { [ -n "$mesa_version" ] && dpkg --compare-versions "$mesa_version" lt 23; } || { [ -z "$mesa_version" ] && [ -z "$other_icd" ]; }; then
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

# 2. Debian's Chromium drives the browser tests (playwright-core, never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  apt_update_once
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

# 3. PyTorch (CPU) from Debian, only with --with-torch: the oracle of the fixture scripts and
#    the benchmarks' peer, and the live second opinion of dalle's torch-reference test (the test
#    command installs it; the quick start's generate does not need it).
#    OpenBLAS too: without it Debian's torch links the reference BLAS (BLAS_INFO=generic) and
#    runs a 1024³ matmul at ~5 GFLOP/s instead of ~70, which would flatter every ratio.
if [ "${1:-}" = "--with-torch" ] && { ! /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; }; then
  apt_update_once
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch python3-numpy libopenblas0-pthread >/dev/null
fi

# 4. pnpm 9 via npm (corepack fails on this machine).
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version | cut -d. -f1)" != "9" ]; then
  npm install -g pnpm@9 >/dev/null
fi

# Dawn wants a writable runtime dir.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/tessera-xdg}"
mkdir -p "$XDG_RUNTIME_DIR"

pnpm install --frozen-lockfile
pnpm build
