#!/usr/bin/env bash
# Builds the Debian package gemmadesk_<version>-1_<arch>.deb from a Release build of its own
# (build/package: gcc, no sanitizers), building only the packaged targets, and prints its path on
# the last line of stdout.
#
#   packaging/build-deb.sh [--cuda auto|on|off] [--build-dir DIR]
#
# --cuda auto (the default) builds the CUDA backend when nvcc is found, like the release preset.
# Packages needed: scripts/install-deps.sh (dpkg-shlibdeps comes with dpkg-dev, via build-essential).
set -euo pipefail
cd "$(dirname "$0")/.."

cuda=auto
build=build/package
while [ $# -gt 0 ]; do
  case "$1" in
    --cuda) cuda=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    *) echo "usage: $0 [--cuda auto|on|off] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
case "$cuda" in
  auto|on) cuda_flag=ON ;;   # OptionalCuda.cmake builds CUDA only where nvcc is found
  off) cuda_flag=OFF ;;
  *) echo "build-deb: --cuda takes auto, on or off" >&2; exit 2 ;;
esac

# ccache: share hits between clones in different folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
jobs=${JOBS:-$(nproc)}

cmake -S . -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DGEMMADESK_SANITIZE=OFF -DGEMMADESK_FUZZ=OFF \
  -DGEMMADESK_CUDA="$cuda_flag" -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
with_cuda=$(sed -n 's/^cuda=//p' "$build/gemmadesk-package.txt")  # written by Packaging.cmake
if [ "$cuda" = on ] && [ "$with_cuda" != ON ]; then
  echo "build-deb: --cuda on, but nvcc was not found" >&2
  exit 1
fi
cmake --build "$build" --target gemmadesk-package-targets -j "$jobs" >&2
rm -f "$build"/gemmadesk_*.deb
(cd "$build" && cpack -G DEB >&2)
deb=$(ls "$build"/gemmadesk_*.deb)
echo "build-deb: $(dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' ')(CUDA backend: ${with_cuda:-?})" >&2
echo "$deb"
