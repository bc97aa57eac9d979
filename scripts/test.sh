#!/usr/bin/env bash
# The test command on a fresh machine: makes it ready (scripts/setup.sh, idempotent), then runs
# every package's tests with one summary line (scripts/run-tests.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-torch   # torch: dalle's torch-reference test runs the PyTorch generate path live
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/tessera-xdg}"
mkdir -p "$XDG_RUNTIME_DIR"
pnpm test
