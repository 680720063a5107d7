#pragma once
// Internal to the matmul kernel family: what each SIMD implementation (matmul_avx2.cpp,
// matmul_avx512.cpp) provides to the shared driver (matmul_kernels.cpp). The driver owns the tiling
// (K chunks, row panels, token groups) and the L1 scratch; the ISA files own the hot loops.
#include <cstddef>
#include <cstdint>

#include "format/dtype.h"

namespace gd::cpu::detail {

// K elements per chunk of the prefill path: a multiple of every block size (256 for the k-quants),
// and small enough that a panel of decoded rows plus a token group of x stays in L1.
inline constexpr int64_t kChunk = 512;
// Weight rows decoded per panel: 8 rows x 512 floats = 16 KiB of scratch.
inline constexpr int64_t kPanelRows = 8;
// Floats between scratch rows: kChunk plus one cache line, so rows do not alias in the L1 sets.
inline constexpr int64_t kScratchLd = kChunk + 16;
// Tokens per pass over a panel: the x slice a pass reads (kTokenBlock x kChunk floats, 256 KiB)
// stays in L2 while every panel of the chunk reuses it. Larger T decodes each panel T/128 times,
// which costs little next to 128 tokens of FMAs.
inline constexpr int64_t kTokenBlock = 128;
// Largest register tile (rows x tokens) of any implementation, for the driver's output buffer.
inline constexpr int kMaxTile = 32;

struct Kernels {
    // T = 1: y[n] = dot(row n, x) for n in [n0, n1), the decode fused into the dot product.
    // Returns false (and touches nothing) for a type without a fused kernel.
    bool (*gemv)(DType type, const uint8_t* w, size_t w_row_bytes, int64_t K, const float* x, float* y,
                 int64_t n0, int64_t n1);
    // Decodes n elements (a multiple of the block size) of one row into dst. Returns false for a type
    // without a SIMD decoder (the driver then uses the reference dequantize_row).
    bool (*decode)(DType type, const uint8_t* src, int64_t n, float* dst);
    // out[t * rows + r] = sum_{k < kc} w[r * ldw + k] * x[t * ldx + k] for r < rows, t < tokens,
    // 1 <= rows <= max_rows, 1 <= tokens <= max_tokens. Reads no element of w or x past kc.
    void (*tile)(int rows, int tokens, const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t kc,
                 float* out);
    float (*dot)(const float* a, const float* b, int64_t n);
    void (*axpy)(float alpha, const float* x, float* y, int64_t n);
    int max_rows;
    int max_tokens;
};

// nullptr where the implementation is not compiled (non-x86).
const Kernels* avx2_kernels();
const Kernels* avx512_kernels();

// The reference (matmul_scalar.cpp): dequantize_row per row, then a plain f32 dot.
void matmul_scalar(DType type, const uint8_t* w, size_t w_row_bytes, int64_t K, const float* x, int64_t ldx,
                   int64_t T, float* y, int64_t ldy, int64_t n0, int64_t n1);
float dot_scalar(const float* a, const float* b, int64_t n);
void axpy_scalar(float alpha, const float* x, float* y, int64_t n);

}  // namespace gd::cpu::detail
