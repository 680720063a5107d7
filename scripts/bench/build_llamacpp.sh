#!/usr/bin/env bash
# Builds llama-bench from the source pack_llamacpp.sh made, for the CPU or CUDA (sm_90), Release.
#
#   scripts/bench/build_llamacpp.sh cpu|cuda BUILD_DIR [SOURCE.tar.xz]
# Prints the path of llama-bench last. Nothing of it is committed.
set -euo pipefail
kind=$1
build=$2
tarball=${3:-$(dirname "$0")/../../.devcarry/llamacpp-src.tar.xz}
src=$build/src
if [[ ! -f $src/CMakeLists.txt ]]; then
  mkdir -p "$src"
  tar -xJf "$tarball" -C "$src"
fi
# The tools folder's list names tools whose sources were left out: keep the ones present.
if [[ ! -f $src/tools/CMakeLists.txt.orig ]]; then
  cp "$src/tools/CMakeLists.txt" "$src/tools/CMakeLists.txt.orig"
  while read -r line; do
    dir=$(sed -n 's/^ *add_subdirectory(\([a-z-]*\)).*/\1/p' <<<"$line")
    if [[ -n $dir && ! -d $src/tools/$dir ]]; then echo "# (not packed) $line"; else echo "$line"; fi
  done < "$src/tools/CMakeLists.txt.orig" > "$src/tools/CMakeLists.txt"
fi
flags=(-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
       -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_OPENSSL=OFF -DBUILD_SHARED_LIBS=OFF
       -DLLAMA_BUILD_COMMIT="$(cut -d' ' -f1 "$src/GEMMADESK_SOURCE" 2>/dev/null || echo unknown)")
if [[ $kind == cuda ]]; then
  flags+=(-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
else
  flags+=(-DGGML_CUDA=OFF)
fi
command -v ccache >/dev/null && flags+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$src" -B "$build/out" "${gen[@]}" "${flags[@]}" > "$build/configure.log" 2>&1 ||
  { tail -30 "$build/configure.log"; exit 1; }
cmake --build "$build/out" --target llama-bench -j "$(nproc)" > "$build/build.log" 2>&1 ||
  { grep -m20 -i error "$build/build.log"; exit 1; }
echo "$build/out/bin/llama-bench"
