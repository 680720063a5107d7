#pragma once
// Block codecs for the GGUF quantized types: reference dequantization to f32 (every type marked
// dequantizable in dtype.cpp) and reference quantization from f32 (the types the writer produces).
// These are the plain, obviously-correct versions; fast kernels elsewhere are tested against them.
#include <cstdint>

#include "format/dtype.h"

namespace gd {

// Decodes `n` elements (a multiple of the block size) stored as `t` at `src` into `dst`.
// Handles the plain float types too (f32, f16, bf16, f64). Throws gd::Error for types without a
// reference dequantization.
void dequantize_row(DType t, const void* src, float* dst, uint64_t n);

// True for the types quantize_row can produce.
bool can_quantize(DType t);

// Encodes `n` floats (a multiple of the block size) as `t` into `dst` (dtype_bytes(t, n) bytes).
void quantize_row(DType t, const float* src, void* dst, uint64_t n);

}  // namespace gd
