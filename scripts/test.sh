#!/usr/bin/env bash
# Builds every target with the ci preset (clang, AddressSanitizer + UndefinedBehaviorSanitizer,
# libFuzzer targets, CUDA code where nvcc exists) and runs every test, fuzzers included.
# Then builds the .deb and tests installing it (tests/packaging/test_deb_install.sh).
# This is the README's test command and exactly what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# ccache: share hits between clones in different folders (CI builds a fresh clone each time).
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
jobs=$(nproc)
cmake --preset ci
cmake --build --preset ci -j "$jobs"
status=0
ctest --preset ci -j "$jobs" || status=$?
# The .deb: a Release build of its own (build/package), installed with apt, the installed app
# started (offscreen and on Xvfb), then removed. After ctest because it changes the system.
JOBS=$jobs tests/packaging/test_deb_install.sh || status=1
exit $status
