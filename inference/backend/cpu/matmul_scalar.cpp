// The reference implementation: obviously correct, and the only one on non-x86 hosts. Each row is
// decoded whole with the reference codec, then dotted with each token in plain f32 order.
#include <vector>

#include "backend/cpu/matmul_internal.h"
#include "format/quant/quant.h"

namespace gd::cpu::detail {

void matmul_scalar(DType type, const uint8_t* w, size_t w_row_bytes, int64_t K, const float* x, int64_t ldx,
                   int64_t T, float* y, int64_t ldy, int64_t n0, int64_t n1) {
    std::vector<float> row(static_cast<size_t>(K));
    for (int64_t n = n0; n < n1; ++n) {
        dequantize_row(type, w + static_cast<size_t>(n) * w_row_bytes, row.data(), static_cast<uint64_t>(K));
        for (int64_t t = 0; t < T; ++t) y[t * ldy + n] = dot_scalar(row.data(), x + t * ldx, K);
    }
}

float dot_scalar(const float* a, const float* b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
    return s;
}

void axpy_scalar(float alpha, const float* x, float* y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

}  // namespace gd::cpu::detail
