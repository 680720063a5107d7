#pragma once
// Load-time quantization: a model whose bf16/f16/f32 weights do not fit is re-encoded in memory as
// it loads (the fit planner's "quantized to Q4_K when loaded"): every text-decoder matrix whose GGUF
// storage type for `type` is a block type (format/storage_type.h, the rule `gemmadesk-cli quantize`
// and make-test-model use) is quantized row by row on all cores, and the model's files point at the
// new bytes. Norms, scalars, the per-layer-embedding table's f32 stays as the rule says; the vision
// and audio towers keep their stored type. Works for Hugging Face folders and GGUF files alike.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "model/model_files.h"

namespace gd {

struct LoadQuantization {
    std::vector<std::unique_ptr<uint8_t[]>> buffers;  // the re-encoded tensors (the files point here)
    uint64_t tensors = 0, bytes_in = 0, bytes_out = 0;
};

// fraction in [0, 1]; return false to cancel (throws gd::Cancelled).
using QuantizeProgress = std::function<bool(double fraction)>;

// Re-encodes files' text matrices as `type` (q8_0, q4_k, ...; gd::Error for a type we cannot
// produce) with `threads` threads (0 = all cores). Tensors already in a block type are kept.
LoadQuantization quantize_while_loading(ModelFiles& files, DType type, int threads, const QuantizeProgress& progress);

}  // namespace gd
