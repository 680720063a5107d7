#pragma once
// Block codecs for the GGUF quantized types: reference dequantization to f32 (every type marked
// dequantizable in dtype.cpp) and reference quantization from f32 (the types the writer produces).
// These are the plain, obviously-correct versions; fast kernels elsewhere are tested against them.
#include <cstdint>

#include "format/dtype.h"

namespace gd {

// Decodes `n` elements (a multiple of the block size) stored as `t` at `src` into `dst`.
// Handles the plain float types too (f32, f16, bf16, f64). `src` must hold dtype_bytes(t, n) bytes:
// callers pass views the file readers have bounds-checked. Throws gd::Error for types without a
// reference dequantization and FormatError for a partial block.
void dequantize_row(DType t, const void* src, float* dst, uint64_t n);

// True for the types quantize_row can produce.
bool can_quantize(DType t);

// Encodes `n` floats (a multiple of the block size) as `t` into `dst` (dtype_bytes(t, n) bytes).
// Deterministic and independent of alignment and of the compiler's FMA contraction (the codecs
// disable it). Throws gd::Error, naming the element, for NaN or infinite input and for blocks whose
// scale does not fit the format's f16 scale (from about 5e5 for q4_0, 8e6 for q8_0).
void quantize_row(DType t, const float* src, void* dst, uint64_t n);

}  // namespace gd
