#!/usr/bin/env bash
# Packs the llama.cpp that a registry package vendors (PyPI llama-cpp-python, the sdist) into
# .devcarry/llamacpp-src.tar.xz, for build_llamacpp.sh to build on a machine without network access
# (the GPU machine). Only what a llama-bench build needs travels (the library, ggml with its CPU and
# CUDA backends, the tools' sources; no models, docs or tests): about 5 MB.
#
#   scripts/bench/pack_llamacpp.sh [SDIST.tar.gz]   (default: pip download llama-cpp-python==$VERSION)
set -euo pipefail
cd "$(dirname "$0")/../.."
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
sdist=${1:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -z $sdist ]]; then
  python3 -m pip download --no-deps --no-binary :all: -d "$work" "llama-cpp-python==$version" >&2
  sdist=$(ls "$work"/llama_cpp_python-*.tar.gz)
fi
tar -xzf "$sdist" -C "$work"
src=$(ls -d "$work"/llama_cpp_python-*/vendor/llama.cpp)
# The vendored commit, from the package's changelog ("update llama.cpp to ggml-org/llama.cpp@<sha>").
commit=$(grep -o -m1 'ggml-org/llama.cpp@[0-9a-f]\{7,\}' "$(dirname "$(dirname "$src")")/CHANGELOG.md" | cut -d@ -f2 | cut -c1-7 || true)
echo "${commit:-unknown} $(basename "$sdist")" > "$src/GEMMADESK_SOURCE"
keep=(CMakeLists.txt cmake common include src vendor tools ggml LICENSE GEMMADESK_SOURCE licenses)
# ggml's other backends (Vulkan, SYCL, Metal, ...) are never configured here.
drop=()
for d in "$src"/ggml/src/ggml-*/; do
  case $(basename "$d") in ggml-cpu | ggml-cuda | ggml-blas) ;; *) drop+=(--exclude="ggml/src/$(basename "$d")") ;; esac
done
mkdir -p .devcarry
(cd "$src" && tar "${drop[@]}" --exclude=tools/ui --exclude='*.gguf' -cJf - $(ls -d "${keep[@]}" 2>/dev/null)) \
  > .devcarry/llamacpp-src.tar.xz
ls -la .devcarry/llamacpp-src.tar.xz
cat "$src/GEMMADESK_SOURCE"
