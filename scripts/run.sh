#!/usr/bin/env bash
# Builds Gemma Desk (release preset: Release, build/release, ccache, CUDA where nvcc exists) on a
# fresh Debian 12 machine and starts the desktop app with the given arguments:
#
#   ./scripts/run.sh [--data-dir DIR] [--model PATH]... [--send TEXT] [--exit-when-done]
#   ./scripts/run.sh --cli ARGS...        the command-line tool instead (no ARGS: its help)
#
# Only the target being started is built. Without a display (no DISPLAY or WAYLAND_DISPLAY), the app
# runs on Qt's offscreen platform when --exit-when-done is given, and is refused otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
target=gemmadesk
if [ "${1:-}" = --cli ]; then
  target=gemmadesk-cli
  shift
  if [ $# -eq 0 ]; then set -- --help; fi
fi
./scripts/install-deps.sh
# ccache: share hits between clones in different folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake --preset release >/dev/null
cmake --build --preset release --target "$target"

if [ "$target" = gemmadesk ] && [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}${QT_QPA_PLATFORM:-}" ]; then
  case " $* " in
    *" --exit-when-done "*)
      echo "run.sh: no display; running gemmadesk on the offscreen platform" >&2
      export QT_QPA_PLATFORM=offscreen ;;
    *)
      echo "run.sh: no display (DISPLAY and WAYLAND_DISPLAY are unset), so the window cannot open." >&2
      echo "  Run it from a desktop session, under xvfb-run, with --model PATH --send TEXT --exit-when-done," >&2
      echo "  or use the command-line tool: ./scripts/run.sh --cli ARGS" >&2
      exit 1 ;;
  esac
fi
exec "./build/release/app/$target" "$@"
