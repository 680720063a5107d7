// AVX2 + FMA + F16C kernels, for x86 CPUs without AVX-512. Same structure as matmul_avx512.cpp
// (per-function target attributes, block decoders feeding a Store or Dot sink, a register tile for
// prefill), with 8-float vectors. AVX2 has no 16-entry float permute, so 4- and 5-bit codes are
// converted with vcvtdq2ps and scaled with one FMA instead of a table lookup. q5_0, q5_1, iq4_xs,
// q2_k, q3_k and f64 go through the reference decoder into the prefill scratch.
#include "backend/cpu/matmul_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "format/quant/quant_blocks.h"

#define GD_AVX2 __attribute__((target("avx2,fma,f16c")))
#define GD_INLINE GD_AVX2 __attribute__((always_inline)) inline
#define GD_UNROLL _Pragma("GCC unroll 16")

namespace gd::cpu::detail {
namespace {

using namespace gd::quant;

GD_INLINE float f16(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }
GD_INLINE __m128i load8(const uint8_t* p) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)); }
// Lanes [0, n) set, for maskload / maskstore.
GD_INLINE __m256i first_lanes(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(std::min<int64_t>(n, 8))),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
GD_INLINE float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// {sum a, sum b, sum c, sum d}
GD_INLINE __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
    const __m256 s = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));  // per 128-bit half
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

// ---- sinks ---------------------------------------------------------------------------------------

struct Store {
    float* dst;
    GD_INLINE void put_tail(int64_t i, __m256 v, int64_t n) { _mm256_maskstore_ps(dst + i, first_lanes(n), v); }
    GD_INLINE void put4(int64_t i, __m256 a, __m256 b, __m256 c, __m256 d) {  // 32 consecutive floats
        _mm256_storeu_ps(dst + i, a);
        _mm256_storeu_ps(dst + i + 8, b);
        _mm256_storeu_ps(dst + i + 16, c);
        _mm256_storeu_ps(dst + i + 24, d);
    }
};

// Four accumulators, so the FMA latency (4 cycles) does not serialise a row.
struct Dot {
    const float* x;
    __m256 a0, a1, a2, a3;
    GD_INLINE void put_tail(int64_t i, __m256 v, int64_t n) {
        a0 = _mm256_fmadd_ps(v, _mm256_maskload_ps(x + i, first_lanes(n)), a0);
    }
    GD_INLINE void put4(int64_t i, __m256 a, __m256 b, __m256 c, __m256 d) {
        a0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(b, _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(c, _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(d, _mm256_loadu_ps(x + i + 24), a3);
    }
    GD_INLINE float sum() const { return hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))); }
};

// ---- plain types ---------------------------------------------------------------------------------

struct F32 {
    static constexpr int64_t bytes = 4;
    GD_INLINE static __m256 load(const uint8_t* p) { return _mm256_loadu_ps(reinterpret_cast<const float*>(p)); }
};
struct F16 {
    static constexpr int64_t bytes = 2;
    GD_INLINE static __m256 load(const uint8_t* p) {
        return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    }
};
struct BF16 {
    static constexpr int64_t bytes = 2;
    GD_INLINE static __m256 load(const uint8_t* p) {
        const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return _mm256_castsi256_ps(_mm256_slli_epi32(h, 16));
    }
};

template <class P, class S>
GD_AVX2 void run_plain(const uint8_t* src, int64_t n, S& s) {
    constexpr int64_t b = P::bytes;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const uint8_t* p = src + i * b;
        s.put4(i, P::load(p), P::load(p + 8 * b), P::load(p + 16 * b), P::load(p + 24 * b));
    }
    for (; i < n; i += 8) {
        // The last few elements go through a zeroed copy: AVX2 has no masked 16-bit load.
        const int64_t rest = std::min<int64_t>(8, n - i);
        alignas(32) uint8_t buf[8 * b] = {};
        std::memcpy(buf, src + i * b, static_cast<size_t>(rest * b));
        s.put_tail(i, P::load(buf), rest);
    }
}

// ---- 32-element blocks: each decoder yields four vectors of 8 consecutive elements ---------------

struct Q8_0 {
    static constexpr int64_t bytes = 34;
    GD_INLINE static void decode(const uint8_t* p, __m256 (&w)[4]) {
        const __m256 d = _mm256_set1_ps(f16(p));
        GD_UNROLL
        for (int j = 0; j < 4; ++j) w[j] = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load8(p + 2 + 8 * j))), d);
    }
};
// Elements j and j + 16 are the low and high nibble of qs[j]; w = q * d + m in one rounding.
GD_INLINE void nibbles(const uint8_t* qs, __m256 d, __m256 m, __m256 (&w)[4]) {
    const __m256i q0 = _mm256_cvtepu8_epi32(load8(qs)), q1 = _mm256_cvtepu8_epi32(load8(qs + 8));
    const __m256i m4 = _mm256_set1_epi32(0x0f);
    w[0] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(q0, m4)), d, m);
    w[1] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(q1, m4)), d, m);
    w[2] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(q0, 4)), d, m);
    w[3] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(q1, 4)), d, m);
}
struct Q4_0 {
    static constexpr int64_t bytes = 18;
    GD_INLINE static void decode(const uint8_t* p, __m256 (&w)[4]) {
        const float d = f16(p);
        nibbles(p + 2, _mm256_set1_ps(d), _mm256_set1_ps(-8.0f * d), w);  // (q - 8) * d, exactly
    }
};
struct Q4_1 {
    static constexpr int64_t bytes = 20;
    GD_INLINE static void decode(const uint8_t* p, __m256 (&w)[4]) {
        nibbles(p + 4, _mm256_set1_ps(f16(p)), _mm256_set1_ps(f16(p + 2)), w);
    }
};

template <class B, class S>
GD_AVX2 void run_b32(const uint8_t* src, int64_t nb, S& s) {
    for (int64_t b = 0; b < nb; ++b) {
        __m256 w[4];
        B::decode(src + b * B::bytes, w);
        s.put4(32 * b, w[0], w[1], w[2], w[3]);
    }
}

// ---- 256-element super-blocks (layouts as described in matmul_avx512.cpp and dequantize.cpp) -----

// out[j] = d * scale_j, out[8 + j] = dmin * min_j of a q4_k / q5_k block (the 32-bit unpacking
// of the 12 scale bytes is explained in matmul_avx512.cpp).
GD_INLINE void k4_scales(const uint8_t* scales, float d, float dmin, float* out) {
    const uint32_t w0 = load_u32(scales), w1 = load_u32(scales + 4), w2 = load_u32(scales + 8);
    const uint32_t sc_lo = w0 & 0x3f3f3f3fu, mn_lo = w1 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 6) & 0x03030303u) << 4;
    const uint32_t mn_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 6) & 0x03030303u) << 4;
    const __m128i sc = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), 0, 0);
    const __m128i mn = _mm_setr_epi32(static_cast<int>(mn_lo), static_cast<int>(mn_hi), 0, 0);
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sc)), _mm256_set1_ps(d)));
    _mm256_storeu_ps(out + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(mn)), _mm256_set1_ps(dmin)));
}

template <class S>
GD_INLINE void q4_k_block(const uint8_t* p, int64_t i0, S& s) {
    alignas(32) float sm[16];
    k4_scales(p + 4, f16(p), f16(p + 2), sm);
    const uint8_t* qs = p + 16;
    const __m256i m4 = _mm256_set1_epi32(0x0f);
    GD_UNROLL
    for (int c = 0; c < 4; ++c) {
        const __m256 d1 = _mm256_set1_ps(sm[2 * c]), n1 = _mm256_set1_ps(sm[8 + 2 * c]);
        const __m256 d2 = _mm256_set1_ps(sm[2 * c + 1]), n2 = _mm256_set1_ps(sm[9 + 2 * c]);
        __m256 lo[4], hi[4];
        GD_UNROLL
        for (int j = 0; j < 4; ++j) {
            const __m256i q = _mm256_cvtepu8_epi32(load8(qs + 32 * c + 8 * j));
            lo[j] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_and_si256(q, m4)), d1, n1);
            hi[j] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(q, 4)), d2, n2);
        }
        s.put4(i0 + 64 * c, lo[0], lo[1], lo[2], lo[3]);
        s.put4(i0 + 64 * c + 32, hi[0], hi[1], hi[2], hi[3]);
    }
}

template <class S>
GD_INLINE void q5_k_block(const uint8_t* p, int64_t i0, S& s) {
    alignas(32) float sm[16];
    k4_scales(p + 4, f16(p), f16(p + 2), sm);
    const uint8_t* qh = p + 16;
    const uint8_t* qs = p + 48;
    const __m256i m4 = _mm256_set1_epi32(0x0f), bit4 = _mm256_set1_epi32(0x10);
    __m256i h[4];  // qh bytes moved up by 4: a right shift by b brings bit b to bit 4
    GD_UNROLL
    for (int j = 0; j < 4; ++j) h[j] = _mm256_slli_epi32(_mm256_cvtepu8_epi32(load8(qh + 8 * j)), 4);
    GD_UNROLL
    for (int c = 0; c < 4; ++c) {
        const __m256 d1 = _mm256_set1_ps(sm[2 * c]), n1 = _mm256_set1_ps(sm[8 + 2 * c]);
        const __m256 d2 = _mm256_set1_ps(sm[2 * c + 1]), n2 = _mm256_set1_ps(sm[9 + 2 * c]);
        const __m128i b1 = _mm_cvtsi32_si128(2 * c), b2 = _mm_cvtsi32_si128(2 * c + 1);
        __m256 lo[4], hi[4];
        GD_UNROLL
        for (int j = 0; j < 4; ++j) {
            const __m256i q = _mm256_cvtepu8_epi32(load8(qs + 32 * c + 8 * j));
            const __m256i ql = _mm256_or_si256(_mm256_and_si256(q, m4), _mm256_and_si256(_mm256_srl_epi32(h[j], b1), bit4));
            const __m256i qu = _mm256_or_si256(_mm256_srli_epi32(q, 4), _mm256_and_si256(_mm256_srl_epi32(h[j], b2), bit4));
            lo[j] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(ql), d1, n1);
            hi[j] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(qu), d2, n2);
        }
        s.put4(i0 + 64 * c, lo[0], lo[1], lo[2], lo[3]);
        s.put4(i0 + 64 * c + 32, hi[0], hi[1], hi[2], hi[3]);
    }
}

template <class S>
GD_INLINE void q6_k_block(const uint8_t* p, int64_t i0, S& s) {
    // The 16 scales as floats, once: ds[j] = d * scale_j and ds32[j] = 32 * ds[j].
    alignas(32) float ds[16], ds32[16];
    const __m256 d = _mm256_set1_ps(f16(p + 208)), c32 = _mm256_set1_ps(32.0f);
    for (int j = 0; j < 16; j += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(load8(p + 192 + j))), d);
        _mm256_store_ps(ds + j, v);
        _mm256_store_ps(ds32 + j, _mm256_mul_ps(v, c32));
    }
    const __m256i m4 = _mm256_set1_epi32(0x0f), m30 = _mm256_set1_epi32(0x30);
    GD_UNROLL
    for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = p + 64 * h;
        const uint8_t* qh = p + 128 + 32 * h;
        __m256 w[4][4];  // [k][j]: elements 128h + 32k + 8j .. +7
        GD_UNROLL
        for (int j = 0; j < 4; ++j) {
            const __m256i hb = _mm256_cvtepu8_epi32(load8(qh + 8 * j));
            const __m256i la = _mm256_cvtepu8_epi32(load8(ql + 8 * j));
            const __m256i lb = _mm256_cvtepu8_epi32(load8(ql + 32 + 8 * j));
            const __m256i q[4] = {
                _mm256_or_si256(_mm256_and_si256(la, m4), _mm256_and_si256(_mm256_slli_epi32(hb, 4), m30)),
                _mm256_or_si256(_mm256_and_si256(lb, m4), _mm256_and_si256(_mm256_slli_epi32(hb, 2), m30)),
                _mm256_or_si256(_mm256_srli_epi32(la, 4), _mm256_and_si256(hb, m30)),
                _mm256_or_si256(_mm256_srli_epi32(lb, 4), _mm256_and_si256(_mm256_srli_epi32(hb, 2), m30))};
            GD_UNROLL
            for (int k = 0; k < 4; ++k) {
                // d * scale * (q - 32) as q * ds - 32 * ds: one rounding, like ggml's (d * scale) * (q - 32)
                const int sub = 8 * h + 2 * k + j / 2;
                w[k][j] = _mm256_fmsub_ps(_mm256_cvtepi32_ps(q[k]), _mm256_set1_ps(ds[sub]), _mm256_set1_ps(ds32[sub]));
            }
        }
        GD_UNROLL
        for (int k = 0; k < 4; ++k) s.put4(i0 + 128 * h + 32 * k, w[k][0], w[k][1], w[k][2], w[k][3]);
    }
}

#define GD_RUN_K(NAME, BYTES)                                                        \
    template <class S>                                                               \
    GD_AVX2 void run_##NAME(const uint8_t* src, int64_t nb, S& s) {                  \
        for (int64_t b = 0; b < nb; ++b) NAME##_block(src + b * (BYTES), 256 * b, s); \
    }
GD_RUN_K(q4_k, 144)
GD_RUN_K(q5_k, 176)
GD_RUN_K(q6_k, 210)
#undef GD_RUN_K

template <class S>
GD_AVX2 bool run(DType t, const uint8_t* src, int64_t n, S& s) {
    switch (t) {
        case DType::F32: run_plain<F32>(src, n, s); return true;
        case DType::F16: run_plain<F16>(src, n, s); return true;
        case DType::BF16: run_plain<BF16>(src, n, s); return true;
        case DType::Q8_0: run_b32<Q8_0>(src, n / 32, s); return true;
        case DType::Q4_0: run_b32<Q4_0>(src, n / 32, s); return true;
        case DType::Q4_1: run_b32<Q4_1>(src, n / 32, s); return true;
        case DType::Q4_K: run_q4_k(src, n / 256, s); return true;
        case DType::Q5_K: run_q5_k(src, n / 256, s); return true;
        case DType::Q6_K: run_q6_k(src, n / 256, s); return true;
        default: return false;
    }
}

bool has_decoder(DType t) {
    switch (t) {
        case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0: case DType::Q4_1:
        case DType::Q4_K: case DType::Q5_K: case DType::Q6_K: return true;
        default: return false;
    }
}

GD_AVX2 bool gemv(DType t, const uint8_t* w, size_t w_row_bytes, int64_t K, const float* x, float* y, int64_t n0,
                  int64_t n1) {
    if (!has_decoder(t)) return false;
    for (int64_t n = n0; n < n1; ++n) {
        const __m256 z = _mm256_setzero_ps();
        Dot dot{x, z, z, z, z};
        run(t, w + static_cast<size_t>(n) * w_row_bytes, K, dot);
        y[n] = dot.sum();
    }
    return true;
}

GD_AVX2 bool decode(DType t, const uint8_t* src, int64_t n, float* dst) {
    Store s{dst};
    return run(t, src, n, s);
}

// ---- the prefill register tile: R rows x TT tokens, at most 4 x 3 = 12 of the 16 ymm registers -----

template <int R, int TT>
GD_AVX2 void tile_rt(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t kc, float* out) {
    __m256 acc[R][TT];
    GD_UNROLL
    for (int r = 0; r < R; ++r) {
        GD_UNROLL
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm256_setzero_ps();
    }
    int64_t k = 0;
    for (; k + 8 <= kc; k += 8) {
        GD_UNROLL
        for (int t = 0; t < TT; ++t) {
            const __m256 xv = _mm256_loadu_ps(x + t * ldx + k);
            GD_UNROLL
            for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(_mm256_loadu_ps(w + r * ldw + k), xv, acc[r][t]);
        }
    }
    if (k < kc) {
        const __m256i m = first_lanes(kc - k);
        GD_UNROLL
        for (int t = 0; t < TT; ++t) {
            const __m256 xv = _mm256_maskload_ps(x + t * ldx + k, m);
            GD_UNROLL
            for (int r = 0; r < R; ++r)
                acc[r][t] = _mm256_fmadd_ps(_mm256_maskload_ps(w + r * ldw + k, m), xv, acc[r][t]);
        }
    }
    GD_UNROLL
    for (int t = 0; t < TT; ++t) {
        if constexpr (R == 4) {
            _mm_storeu_ps(out + 4 * t, hsum4(acc[0][t], acc[1][t], acc[2][t], acc[3][t]));
        } else {
            GD_UNROLL
            for (int r = 0; r < R; ++r) out[t * R + r] = hsum(acc[r][t]);
        }
    }
}

constexpr int kRows = 4, kTokens = 3;
using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*);
template <int R>
constexpr TileFn row_tiles[kTokens] = {tile_rt<R, 1>, tile_rt<R, 2>, tile_rt<R, 3>};
constexpr const TileFn* kTiles[kRows] = {row_tiles<1>, row_tiles<2>, row_tiles<3>, row_tiles<4>};

void tile(int rows, int tokens, const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t kc, float* out) {
    kTiles[rows - 1][tokens - 1](w, ldw, x, ldx, kc, out);
}

// ---- f32 helpers ---------------------------------------------------------------------------------

GD_AVX2 float dot(const float* a, const float* b, int64_t n) {
    const __m256 z = _mm256_setzero_ps();
    Dot s{b, z, z, z, z};
    run_plain<F32>(reinterpret_cast<const uint8_t*>(a), n, s);
    return s.sum();
}

GD_AVX2 void axpy(float alpha, const float* x, float* y, int64_t n) {
    const __m256 a = _mm256_set1_ps(alpha);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(a, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i < n; i += 8) {
        const __m256i m = first_lanes(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_fmadd_ps(a, _mm256_maskload_ps(x + i, m), _mm256_maskload_ps(y + i, m)));
    }
}

constexpr Kernels kKernels = {gemv, decode, tile, dot, axpy, kRows, kTokens};

}  // namespace

const Kernels* avx2_kernels() { return &kKernels; }

}  // namespace gd::cpu::detail

#else  // not x86-64: only the scalar reference exists

namespace gd::cpu::detail {
const Kernels* avx2_kernels() { return nullptr; }
}  // namespace gd::cpu::detail

#endif
