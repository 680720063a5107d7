// The public entry points: argument checks, ISA dispatch, and the prefill tiling shared by the SIMD
// implementations.
//
// Prefill (T > 1) is compute bound, so each weight element is decoded once into an L1 scratch and
// reused for every token: for each K chunk (kChunk elements), for each panel of kPanelRows rows,
// decode the panel, then run the ISA's register tile (rows x tokens accumulators) over every token
// group. K-chunk outermost, then blocks of kTokenBlock tokens, keeps the slice of x being read in L2
// while all panels pass over it. Decode (T = 1) is memory bound and goes to the ISA's fused gemv instead.
#include <algorithm>
#include <string>

#include "backend/cpu/matmul_internal.h"
#include "backend/cpu/matmul_kernels.h"
#include "common/error.h"
#include "format/quant/quant.h"

namespace gd::cpu {
namespace {

using detail::Kernels;

// nullptr for Scalar; throws for an ISA this CPU cannot run (a caller bug: use detected_isa()).
const Kernels* kernels_for(Isa isa) {
    if (isa == Isa::Scalar) return nullptr;
    const Kernels* k = isa_supported(isa) ? (isa == Isa::Avx2 ? detail::avx2_kernels() : detail::avx512_kernels())
                                          : nullptr;
    if (k == nullptr) throw Error(std::string("the CPU kernels for ") + isa_name(isa) + " cannot run here");
    return k;
}

void matmul_tiled(const Kernels& k, DType type, const uint8_t* w, size_t w_row_bytes, int64_t K,
                  const float* x, int64_t ldx, int64_t T, float* y, int64_t ldy, int64_t n0, int64_t n1) {
    const DTypeInfo& info = dtype_info(type);
    alignas(64) float panel[detail::kPanelRows * detail::kScratchLd];
    float out[detail::kMaxTile];
    for (int64_t k0 = 0; k0 < K; k0 += detail::kChunk) {
        const int64_t kc = std::min(detail::kChunk, K - k0);
        const size_t chunk_offset = static_cast<size_t>(k0 / info.block_elems) * info.block_bytes;
        const bool first = k0 == 0;
        for (int64_t tb = 0; tb < T; tb += detail::kTokenBlock) {
            const int64_t tb_end = std::min(T, tb + detail::kTokenBlock);
            for (int64_t p0 = n0; p0 < n1; p0 += detail::kPanelRows) {
                const int64_t rows = std::min(detail::kPanelRows, n1 - p0);
                for (int64_t r = 0; r < rows; ++r) {
                    const uint8_t* src = w + static_cast<size_t>(p0 + r) * w_row_bytes + chunk_offset;
                    float* dst = panel + r * detail::kScratchLd;
                    if (!k.decode(type, src, kc, dst)) dequantize_row(type, src, dst, static_cast<uint64_t>(kc));
                }
                for (int64_t t0 = tb; t0 < tb_end; t0 += k.max_tokens) {
                    const int tokens = static_cast<int>(std::min<int64_t>(k.max_tokens, tb_end - t0));
                    for (int64_t r0 = 0; r0 < rows; r0 += k.max_rows) {
                        const int tr = static_cast<int>(std::min<int64_t>(k.max_rows, rows - r0));
                        k.tile(tr, tokens, panel + r0 * detail::kScratchLd, detail::kScratchLd, x + t0 * ldx + k0,
                               ldx, kc, out);
                        for (int t = 0; t < tokens; ++t) {
                            float* yt = y + (t0 + t) * ldy + p0 + r0;
                            for (int r = 0; r < tr; ++r) yt[r] = first ? out[t * tr + r] : yt[r] + out[t * tr + r];
                        }
                    }
                }
            }
        }
    }
}

}  // namespace

void matmul_rows(Isa isa, DType type, const uint8_t* w, size_t w_row_bytes, int64_t K, const float* x, int64_t ldx,
                 int64_t T, float* y, int64_t ldy, int64_t n0, int64_t n1) {
    const DTypeInfo& info = dtype_info(type);
    if (!info.dequantizable)
        throw Error(std::string("the CPU matrix product has no decoder for tensor type ") + info.name);
    if (K < 0 || T < 0 || n0 < 0 || n1 < n0) throw Error("matmul_rows: negative size or empty row range");
    (void)dtype_bytes(type, static_cast<uint64_t>(K));  // throws FormatError when K is not whole blocks
    if (n0 == n1 || T == 0) return;
    if (K == 0) {
        for (int64_t t = 0; t < T; ++t) std::fill(y + t * ldy + n0, y + t * ldy + n1, 0.0f);
        return;
    }
    const Kernels* k = kernels_for(isa);
    if (k == nullptr) return detail::matmul_scalar(type, w, w_row_bytes, K, x, ldx, T, y, ldy, n0, n1);
    if (T == 1 && k->gemv(type, w, w_row_bytes, K, x, y, n0, n1)) return;
    matmul_tiled(*k, type, w, w_row_bytes, K, x, ldx, T, y, ldy, n0, n1);
}

float dot_f32(Isa isa, const float* a, const float* b, int64_t n) {
    const Kernels* k = kernels_for(isa);
    return k ? k->dot(a, b, n) : detail::dot_scalar(a, b, n);
}

void axpy_f32(Isa isa, float alpha, const float* x, float* y, int64_t n) {
    const Kernels* k = kernels_for(isa);
    if (k)
        k->axpy(alpha, x, y, n);
    else
        detail::axpy_scalar(alpha, x, y, n);
}

}  // namespace gd::cpu
