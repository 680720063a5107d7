#!/usr/bin/env bash
# On a GPU machine (the device tool's copy of this repository, with .devcarry carried): unpacks what
# scripts/cuda/pack_tests.sh made and runs the CUDA tests; compute-sanitizer with --sanitize.
# Logs go to $OUT (or /tmp/gd-out). Extra arguments go to the test binary (e.g. --gtest_filter=...).
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-/tmp/gd-out}
mkdir -p "$out" /tmp/gd
tar -xJf .devcarry/gd-cuda-tests.tar.xz -C /tmp/gd
# The test binary looks for tests/data where this repository was when it was built.
mkdir -p /work && { [[ -e /work/main ]] || ln -s "$PWD" /work/main; }
cublas=$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets /opt /usr/lib -name 'libcublas.so.13*' 2>/dev/null | head -1)
export LD_LIBRARY_PATH=/tmp/gd/lib${cublas:+:$(dirname "$cublas")}:${LD_LIBRARY_PATH:-}
export GD_TMP=/tmp/gd-tmp
mkdir -p "$GD_TMP"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
sanitize=0
if [[ ${1:-} == --sanitize ]]; then sanitize=1; shift; fi
if (( sanitize )); then
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer --tool $tool"
    compute-sanitizer --tool "$tool" --error-exitcode 99 --print-limit 20 /tmp/gd/bin/test_cuda "$@" \
      > "$out/sanitize-$tool.txt" 2>&1
    echo "exit $?"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|FAILED|PASSED" "$out/sanitize-$tool.txt" | tail -5
  done
else
  /tmp/gd/bin/test_cuda --gtest_output=xml:"$out/test_cuda.xml" "$@" > "$out/test_cuda.txt" 2>&1
  rc=$?
  grep -E "^\[  FAILED  \]|^\[  PASSED  \]|^\[  SKIPPED \]|Failure|error|Expected|Which is|seed" "$out/test_cuda.txt" | head -150
  echo "test_cuda exit $rc"
fi
