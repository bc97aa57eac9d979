#!/usr/bin/env bash
# The `tessera` CLI on a fresh machine: makes the machine ready first (scripts/setup.sh, idempotent:
# seconds once done), then runs the CLI with these arguments from the caller's directory.
#   bash scripts/tessera.sh generate "a red heart"
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh" >&2
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/tessera-xdg}"
mkdir -p "$XDG_RUNTIME_DIR"
exec node "$root/apps/cli/dist/index.js" "$@"
