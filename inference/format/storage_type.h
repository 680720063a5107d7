#pragma once
// Which type a GGUF tensor is stored in when a file type is asked for: the one rule make-test-model,
// the load-time quantizer and the fit planner share, so that a model quantized from f32 by
// `gemmadesk-cli quantize` is byte-for-byte the one make-test-model writes, and the planner's
// memory figures are what those files hold.
#include <cstdint>
#include <string>
#include <vector>

#include "format/dtype.h"

namespace gd {

// The type a GGUF tensor of `shape` (PyTorch order) gets when `wanted` is asked for: 1-D tensors and
// the tables llama.cpp keeps in f32 stay f32; rows that are not whole blocks fall back like
// llama.cpp does (q4_k -> q5_0, q5_k -> q5_1, q6_k -> q8_0, iq4_xs -> iq4_nl, q2_k/q3_k -> q4_0,
// then f16).
DType gguf_storage_type(const std::string& internal_name, const std::vector<uint64_t>& shape, DType wanted);

}  // namespace gd
