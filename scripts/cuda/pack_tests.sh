#!/usr/bin/env bash
# Builds the CUDA tests and the benchmark (test_cuda, gemmadesk-bench) here (Release, sm_90) and packs them with the
# shared libraries a bare GPU machine lacks into .devcarry/gd-cuda-tests.tar.xz, for scripts/cuda/run_tests.sh and
# scripts/bench/run_bench.sh to run there.
# The GPU machine has the CUDA driver and toolkit (cuBLAS) but none of Debian's libraries.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${GD_CUDA_BUILD:-build/cuda}
if [[ ! -f $build/build.ninja ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGEMMADESK_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache
fi
cmake --build "$build" --target test_cuda gemmadesk-bench "${@}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib"
strip -o "$stage/bin/test_cuda" "$build/tests/test_cuda"
strip -o "$stage/bin/gemmadesk-bench" "$build/app/gemmadesk-bench"
# Every library the binary loads except the C/C++ runtime and CUDA's own (present there).
ldd "$build/tests/test_cuda" "$build/app/gemmadesk-bench" | awk '$3 ~ /^\// {print $3}' |
  grep -v -E '/(libc|libm|libstdc\+\+|libgcc_s|ld-linux-x86-64|libpthread|libdl|librt|libcuda|libcublas|libcublasLt|libcudart|libcudnn[a-z_]*)\.so' |
  sort -u | while read -r lib; do cp -L "$lib" "$stage/lib/"; done
mkdir -p .devcarry
tar -C "$stage" -cJf .devcarry/gd-cuda-tests.tar.xz bin lib
ls -la .devcarry/gd-cuda-tests.tar.xz
tar -tJf .devcarry/gd-cuda-tests.tar.xz
