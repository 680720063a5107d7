#pragma once
// The CPU matrix-product kernel family: weights in their stored type (f32, f16, bf16 and every
// quantized type the reference codecs decode), activations in f32, dequantization fused into the
// product (weights are decoded a block at a time in registers or an L1-sized scratch, never
// materialised as a whole f32 matrix). One reference implementation (scalar, obviously correct) and
// SIMD implementations (AVX2+FMA, AVX-512) chosen at run time; tests compare them.
//
// Single-threaded: the caller (cpu_backend.cpp) splits the output rows over its threads.
#include <cstddef>
#include <cstdint>
#include "format/dtype.h"

namespace gd::cpu {

enum class Isa { Scalar, Avx2, Avx512 };
const char* isa_name(Isa isa);   // "scalar", "avx2", "avx512"
Isa detected_isa();              // the best the CPU supports (cpuid), capped by $GEMMADESK_ISA if set
bool isa_supported(Isa isa);

// Y[t * ldy + n] = sum_k W[n][k] * X[t * ldx + k]  for n in [n0, n1), t in [0, T).
// W: rows of K elements stored as `type`, consecutive rows `w_row_bytes` apart (== dtype_bytes(type, K));
// K is a multiple of the type's block size. Rows outside [n0, n1) of Y are not touched.
// Accumulates in f32. Throws gd::Error for a type without a decoder.
void matmul_rows(Isa isa, DType type, const uint8_t* w, size_t w_row_bytes, int64_t K,
                 const float* x, int64_t ldx, int64_t T,
                 float* y, int64_t ldy, int64_t n0, int64_t n1);

// Plain f32 helpers for attention and the elementwise ops, with the same dispatch.
float dot_f32(Isa isa, const float* a, const float* b, int64_t n);
void axpy_f32(Isa isa, float alpha, const float* x, float* y, int64_t n);  // y += alpha * x

}  // namespace gd::cpu
