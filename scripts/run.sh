#!/usr/bin/env bash
# Builds Gemma Desk (release preset) on a fresh Debian 12 machine and starts it.
# Until the desktop app exists this starts gemmadesk-cli; arguments are passed to it
# (no arguments: its help).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# ccache: share hits between clones in different folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset release >/dev/null
cmake --build --preset release
if [ $# -eq 0 ]; then set -- --help; fi
exec ./build/release/app/gemmadesk-cli "$@"
