#!/usr/bin/env bash
# The speed benchmark of docs/perf.md: full-size random models (make-test-model, GGUF) measured by
# gemmadesk-bench (prefill at 512 and 4096 tokens, batch-1 decode, the vision tower at every budget,
# the audio tower on 30 s, time to first token for a 1120-token image and a 50-token question, peak
# memory, the copy and bf16 ceilings and the decode roofline) and by llama.cpp's llama-bench on the
# same files, then one table (bench.md) with the ratios.
#
#   scripts/bench/run_bench.sh [--device cuda|cpu] [--models e2b:q4_k,31b:q4_k,...] [--dir DIR] [--out DIR]
#                              [--bench PATH] [--llama-bench PATH|none] [--reps R] [--gen N] [--prompts 512,4096]
#                              [--size full|tiny] [--keep]
#
# On a GPU machine (the device tool's copy of this repository, .devcarry carried, made by
# scripts/cuda/pack_tests.sh and scripts/bench/pack_llamacpp.sh): with no --bench, unpacks
# gemmadesk-bench; with no --llama-bench, builds it for CUDA from the packed source in the background
# while the first model is written (measuring starts after the build). Each model is written (unless DIR holds it), measured by both
# programs one after the other, and deleted unless --keep (the disk holds one large model at a time).
# Results: $OUT (or /tmp/gd-out): bench.md, one JSON file per model and program, the logs.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
device=cuda
models=e2b:q4_k,e4b:q4_k,26b-a4b:q4_k,31b:q4_k,e2b:q8_0,e4b:q8_0,e2b:bf16,e4b:bf16
dir=/tmp/gd-models
out=${OUT:-/tmp/gd-out}
bench=""
llama=""
reps=3
gen=128
prompts=512,4096
size=full
keep=0
while (($#)); do
  case $1 in
    --device) device=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bench) bench=$2; shift 2 ;;
    --llama-bench) llama=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --gen) gen=$2; shift 2 ;;
    --prompts) prompts=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;  # tiny: to try this script in seconds
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out" "$dir"
log() { echo "[$(date +%T)] $*" | tee -a "$out/run.log"; }

if [[ -z $bench ]]; then
  mkdir -p /tmp/gd
  tar -xJf "$repo/.devcarry/gd-cuda-tests.tar.xz" -C /tmp/gd
  cublas=$(find /usr/local/cuda*/lib64 /usr/local/cuda*/targets /opt /usr/lib -name 'libcublas.so.13*' 2>/dev/null | head -1)
  export LD_LIBRARY_PATH=/tmp/gd/lib${cublas:+:$(dirname "$cublas")}:${LD_LIBRARY_PATH:-}
  bench=/tmp/gd/bin/gemmadesk-bench
fi
if [[ $device == cuda ]]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm,clocks.max.mem --format=csv | tee -a "$out/run.log"
fi
"$bench" devices | tee -a "$out/run.log"

# llama.cpp: built in the background (all cores but two) while the first model is written.
llama_pid=""
if [[ -z $llama ]]; then
  llama=/tmp/llamacpp/out/bin/llama-bench
  if [[ ! -x $llama ]]; then
    log "building llama.cpp ($device) from the packed source"
    (nice -n 5 "$repo/scripts/bench/build_llamacpp.sh" "$device" /tmp/llamacpp > "$out/llamacpp-build.txt" 2>&1) &
    llama_pid=$!
  fi
fi

threads=$(nproc)
ngl=99
[[ $device == cpu ]] && ngl=0
bandwidth=""
IFS=, read -ra list <<<"$models"
for item in "${list[@]}"; do
  variant=${item%%:*}
  type=${item##*:}
  name=$variant-$type
  file=$dir/$name.gguf
  if [[ ! -f $file ]]; then
    avail=$(df -B1 --output=avail "$dir" | tail -1)
    log "writing $name (disk free $((avail / 1000000000)) GB)"
    if ! "$bench" make-test-model --variant "$variant" --size "$size" --dtype "$type" --seed 1 --repeat-rows --out "$file" \
        > "$out/make-$name.txt" 2>&1; then
      log "could not write $name: $(tail -1 "$out/make-$name.txt")"; rm -f "$file" "$dir/mmproj-$name.gguf"; continue
    fi
  fi
  log "$name: $(du -h "$file" | cut -f1) + mmproj $(du -h "$dir/mmproj-$name.gguf" | cut -f1)"
  extra=(--images all --ttft-image 1120)
  [[ $variant == e2b || $variant == e4b ]] && extra+=(--audio 30)
  # llama.cpp's build shares the CPU, which would slow our launches: measure only after it.
  if [[ -n $llama_pid ]]; then
    log "waiting for the llama.cpp build"
    wait "$llama_pid" || true
    llama_pid=""
  fi
  # The ceilings once, in a process of their own (their buffers would count in a model's peak memory).
  if [[ -z $bandwidth ]]; then
    log "ceilings (copy, bf16 product) on $device"
    if "$bench" bench --model "$file" --device "$device" -p 8 -n 1 --ceilings --json > "$out/ceilings.json" \
        2> "$out/ceilings.err"; then
      bandwidth=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ceilings']['copy_gb_per_s'])" "$out/ceilings.json")
      log "copy bandwidth $bandwidth GB/s"
    else
      log "ceilings failed: $(tail -2 "$out/ceilings.err" | tr '\n' ' ')"
    fi
  fi
  [[ -n $bandwidth ]] && extra+=(--bandwidth "$bandwidth")
  log "$name: gemmadesk-bench"
  "$bench" bench --model "$file" --device "$device" -p "$prompts" -n "$gen" -r "$reps" "${extra[@]}" --json \
    > "$out/gd-$name.json" 2> "$out/gd-$name.err" || log "$name: gemmadesk-bench failed: $(tail -2 "$out/gd-$name.err" | tr '\n' ' ')"
  if [[ $device == cuda && $variant == e2b && $type == q4_k ]]; then
    log "$name: decode with the steps launched one by one (GD_CUDA_GRAPHS=0)"
    GD_CUDA_GRAPHS=0 "$bench" bench --model "$file" --device cuda -p "${prompts%%,*}" -n "$gen" -r "$reps" --json \
      > "$out/gd-$name-eager.json" 2>> "$out/gd-$name.err"
  fi
  if [[ $llama != none && -x $llama ]]; then
    log "$name: llama-bench"
    # Prefill at each length on an empty cache; decode after the first prompt length (-d), as ours.
    "$llama" -m "$file" -p "$prompts" -n 0 -r "$reps" -ngl "$ngl" -fa 1 -t "$threads" -o json \
      > "$out/llama-$name.json" 2> "$out/llama-$name.err" || log "$name: llama-bench failed: $(tail -2 "$out/llama-$name.err" | tr '\n' ' ')"
    "$llama" -m "$file" -p 0 -n "$gen" -d "${prompts%%,*}" -r "$reps" -ngl "$ngl" -fa 1 -t "$threads" -o json \
      > "$out/llama-$name-tg.json" 2>> "$out/llama-$name.err" || log "$name: llama-bench (decode) failed"
  elif [[ $llama != none ]]; then
    log "no llama-bench: $(tail -3 "$out/llamacpp-build.txt" 2>/dev/null | tr '\n' ' ')"
  fi
  ((keep)) || rm -f "$file" "$dir/mmproj-$name.gguf"
done
python3 "$repo/scripts/bench/summarize.py" "$out" | tee "$out/bench.md"
