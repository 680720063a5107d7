#!/usr/bin/env bash
# Builds Gemma Desk (release preset) on a fresh Debian 12 machine and starts it.
# Until the desktop app exists this starts gemmadesk-cli; arguments are passed to it
# (no arguments: its help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
if [ $# -eq 0 ]; then set -- --help; fi
exec ./build/release/app/gemmadesk-cli "$@"
