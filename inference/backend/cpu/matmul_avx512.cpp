// AVX-512 kernels (F, BW, VL, DQ + FMA, F16C). Compiled for the x86-64 baseline with per-function
// target attributes, so this file links into every x86 build and runs only where the dispatcher
// found the instructions. (Per-file -mavx512f would let inline functions from shared headers be
// emitted with AVX-512 code and picked by the linker for callers on older CPUs.)
//
// Every type is decoded by one block decoder that hands 16-float vectors to a "sink": the Store sink
// writes them to the prefill scratch, the Dot sink multiplies them with x into four accumulators
// (the T = 1 path: the weights never leave registers). 4- and 5-bit codes become floats with one
// permute from a per-sub-block table of the 16 or 32 possible values (vpermps / vpermi2ps), which
// also folds the scale and minimum in; q8_0 and q6_k convert integers to float.
#include "backend/cpu/matmul_internal.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics fill "don't care" operands with `__m512 __Y = __Y;`, which
// -Wuninitialized reports once they are inlined at -O2 (GCC bug 105593). Deliberate, so silenced.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "format/quant/quant_blocks.h"

#define GD_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define GD_INLINE GD_AVX512 __attribute__((always_inline)) inline
#define GD_UNROLL _Pragma("GCC unroll 16")

namespace gd::cpu::detail {
namespace {

using namespace gd::quant;

GD_INLINE float f16(const uint8_t* p) { return _cvtsh_ss(load_u16(p)); }
GD_INLINE __mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>((1u << std::min<int64_t>(n, 16)) - 1u); }
GD_INLINE __m128i load16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
GD_INLINE __m512 iota() { return _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
GD_INLINE __m512 iq4nl_values() {
    return _mm512_setr_ps(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);
}
// (a & 0x0f) | (b & ~0x0f) per 32-bit lane: a 4-bit code with b's bit 4 above it, for vpermi2ps
// (which reads index bits 0-4 and ignores the rest).
GD_INLINE __m512i low4_with(__m512i a, __m512i b) {
    return _mm512_ternarylogic_epi32(a, b, _mm512_set1_epi32(0x0f), 0xe4);
}
// Horizontal sums (not _mm512_reduce_add_ps: GCC 12 warns about its undefined-register idiom).
GD_INLINE __m128 fold512(__m512 v) {
    const __m256 s = _mm256_add_ps(_mm512_castps512_ps256(v),
                                   _mm512_castps512_ps256(_mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(3, 2, 3, 2))));
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}
GD_INLINE float hsum(__m512 v) {
    __m128 s = fold512(v);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
// {sum a, sum b, sum c, sum d}: the four reductions share their shuffles.
GD_INLINE __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d) {
    const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));  // a02 b02 a13 b13
    const __m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
    return fold512(_mm512_add_ps(_mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(1, 0, 1, 0)),
                                 _mm512_shuffle_ps(ab, cd, _MM_SHUFFLE(3, 2, 3, 2))));
}

// ---- sinks ---------------------------------------------------------------------------------------

struct Store {
    float* dst;
    GD_INLINE void put_tail(int64_t i, __m512 v, __mmask16 m) { _mm512_mask_storeu_ps(dst + i, m, v); }
    GD_INLINE void put2(int64_t i, __m512 a, __m512 b) {
        _mm512_storeu_ps(dst + i, a);
        _mm512_storeu_ps(dst + i + 16, b);
    }
    GD_INLINE void put4(int64_t ia, __m512 a, int64_t ib, __m512 b, int64_t ic, __m512 c, int64_t id, __m512 d) {
        _mm512_storeu_ps(dst + ia, a);
        _mm512_storeu_ps(dst + ib, b);
        _mm512_storeu_ps(dst + ic, c);
        _mm512_storeu_ps(dst + id, d);
    }
};

// Four accumulators: FMA latency is 4 cycles, and one chain would cap a row at 4 floats a cycle.
struct Dot {
    const float* x;
    __m512 a0, a1, a2, a3;
    GD_INLINE void put_tail(int64_t i, __m512 v, __mmask16 m) {
        a0 = _mm512_fmadd_ps(v, _mm512_maskz_loadu_ps(m, x + i), a0);
    }
    GD_INLINE void put2(int64_t i, __m512 a, __m512 b) {
        a0 = _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), a0);
        a1 = _mm512_fmadd_ps(b, _mm512_loadu_ps(x + i + 16), a1);
    }
    GD_INLINE void put4(int64_t ia, __m512 a, int64_t ib, __m512 b, int64_t ic, __m512 c, int64_t id, __m512 d) {
        a0 = _mm512_fmadd_ps(a, _mm512_loadu_ps(x + ia), a0);
        a1 = _mm512_fmadd_ps(b, _mm512_loadu_ps(x + ib), a1);
        a2 = _mm512_fmadd_ps(c, _mm512_loadu_ps(x + ic), a2);
        a3 = _mm512_fmadd_ps(d, _mm512_loadu_ps(x + id), a3);
    }
    GD_INLINE float sum() const { return hsum(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))); }
};

// ---- plain types ---------------------------------------------------------------------------------

GD_INLINE __m512 ld_f32(const uint8_t* p) { return _mm512_loadu_ps(reinterpret_cast<const float*>(p)); }
GD_INLINE __m512 ld_f16(const uint8_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
GD_INLINE __m512 bf16_bits(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
GD_INLINE __m512 ld_bf16(const uint8_t* p) { return bf16_bits(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }

struct F32 {
    static constexpr int64_t bytes = 4;
    GD_INLINE static __m512 load(const uint8_t* p) { return ld_f32(p); }
    GD_INLINE static __m512 load_tail(const uint8_t* p, __mmask16 m) {
        return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(p));
    }
};
struct F16 {
    static constexpr int64_t bytes = 2;
    GD_INLINE static __m512 load(const uint8_t* p) { return ld_f16(p); }
    GD_INLINE static __m512 load_tail(const uint8_t* p, __mmask16 m) {
        return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
    }
};
struct BF16 {
    static constexpr int64_t bytes = 2;
    GD_INLINE static __m512 load(const uint8_t* p) { return ld_bf16(p); }
    GD_INLINE static __m512 load_tail(const uint8_t* p, __mmask16 m) { return bf16_bits(_mm256_maskz_loadu_epi16(m, p)); }
};

template <class P, class S>
GD_AVX512 void run_plain(const uint8_t* src, int64_t n, S& s) {
    constexpr int64_t b = P::bytes;
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const uint8_t* p = src + i * b;
        s.put4(i, P::load(p), i + 16, P::load(p + 16 * b), i + 32, P::load(p + 32 * b), i + 48, P::load(p + 48 * b));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = first_lanes(n - i);
        s.put_tail(i, P::load_tail(src + i * b, m), m);
    }
}

// ---- 32-element blocks ---------------------------------------------------------------------------
// Each decoder returns the block's two vectors (elements 0-15 and 16-31); run_b32 pairs blocks so
// the Dot sink keeps four chains going.

struct Q8_0 {
    static constexpr int64_t bytes = 34;
    GD_INLINE static void decode(const uint8_t* p, __m512& lo, __m512& hi) {
        const __m512 d = _mm512_set1_ps(f16(p));
        lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load16(p + 2))), d);
        hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load16(p + 18))), d);
    }
};
// Element j is the low nibble of qs[j], element j + 16 the high nibble; vpermps reads index bits 0-3.
GD_INLINE void nibbles_lut(const uint8_t* qs, __m512 lut, __m512& lo, __m512& hi) {
    const __m512i q = _mm512_cvtepu8_epi32(load16(qs));
    lo = _mm512_permutexvar_ps(q, lut);
    hi = _mm512_permutexvar_ps(_mm512_srli_epi32(q, 4), lut);
}
struct Q4_0 {
    static constexpr int64_t bytes = 18;
    GD_INLINE static void decode(const uint8_t* p, __m512& lo, __m512& hi) {
        const float d = f16(p);
        nibbles_lut(p + 2, _mm512_fmsub_ps(iota(), _mm512_set1_ps(d), _mm512_set1_ps(8.0f * d)), lo, hi);
    }
};
struct Q4_1 {
    static constexpr int64_t bytes = 20;
    GD_INLINE static void decode(const uint8_t* p, __m512& lo, __m512& hi) {
        nibbles_lut(p + 4, _mm512_fmadd_ps(iota(), _mm512_set1_ps(f16(p)), _mm512_set1_ps(f16(p + 2))), lo, hi);
    }
};
struct IQ4_NL {
    static constexpr int64_t bytes = 18;
    GD_INLINE static void decode(const uint8_t* p, __m512& lo, __m512& hi) {
        nibbles_lut(p + 2, _mm512_mul_ps(iq4nl_values(), _mm512_set1_ps(f16(p))), lo, hi);
    }
};
// q5_0 / q5_1: the 5th bit of element i is bit i of the u32 qh; 32-entry table in two registers.
GD_INLINE void q5_lut(const uint8_t* qh_bytes, const uint8_t* qs, __m512 lut0, __m512 lut1, __m512& lo, __m512& hi) {
    const __m512i qh = _mm512_set1_epi32(static_cast<int>(load_u32(qh_bytes)));
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // (qh >> i) << 4 puts bit i at bit 4.
    const __m512i h_lo = _mm512_slli_epi32(_mm512_srlv_epi32(qh, lanes), 4);
    const __m512i h_hi = _mm512_slli_epi32(_mm512_srlv_epi32(qh, _mm512_add_epi32(lanes, _mm512_set1_epi32(16))), 4);
    const __m512i q = _mm512_cvtepu8_epi32(load16(qs));
    lo = _mm512_permutex2var_ps(lut0, low4_with(q, h_lo), lut1);
    hi = _mm512_permutex2var_ps(lut0, low4_with(_mm512_srli_epi32(q, 4), h_hi), lut1);
}
struct Q5_0 {
    static constexpr int64_t bytes = 22;
    GD_INLINE static void decode(const uint8_t* p, __m512& lo, __m512& hi) {
        const __m512 d = _mm512_set1_ps(f16(p));
        // codes 0-15 are d * (q - 16), codes 16-31 are d * (q - 16) = d * (0..15)
        q5_lut(p + 2, p + 6, _mm512_fmsub_ps(iota(), d, _mm512_mul_ps(d, _mm512_set1_ps(16.0f))),
               _mm512_mul_ps(iota(), d), lo, hi);
    }
};
struct Q5_1 {
    static constexpr int64_t bytes = 24;
    GD_INLINE static void decode(const uint8_t* p, __m512& lo, __m512& hi) {
        const __m512 d = _mm512_set1_ps(f16(p)), m = _mm512_set1_ps(f16(p + 2));
        q5_lut(p + 4, p + 8, _mm512_fmadd_ps(iota(), d, m),
               _mm512_fmadd_ps(_mm512_add_ps(iota(), _mm512_set1_ps(16.0f)), d, m), lo, hi);
    }
};

template <class B, class S>
GD_AVX512 void run_b32(const uint8_t* src, int64_t nb, S& s) {
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        __m512 w0, w1, w2, w3;
        B::decode(src + b * B::bytes, w0, w1);
        B::decode(src + (b + 1) * B::bytes, w2, w3);
        s.put4(32 * b, w0, 32 * b + 16, w1, 32 * b + 32, w2, 32 * b + 48, w3);
    }
    if (b < nb) {
        __m512 w0, w1;
        B::decode(src + b * B::bytes, w0, w1);
        s.put2(32 * b, w0, w1);
    }
}

// ---- 256-element super-blocks --------------------------------------------------------------------

// The eight 6-bit scales and mins of a q4_k / q5_k block as floats: out[j] = d * scale_j,
// out[8 + j] = dmin * min_j. The packing (see k4_scale_min) unpacks with a few 32-bit operations on
// the three little-endian words of `scales`, four sub-blocks per word; the rest is one SIMD convert.
GD_INLINE void k4_scales(const uint8_t* scales, float d, float dmin, float* out) {
    const uint32_t w0 = load_u32(scales), w1 = load_u32(scales + 4), w2 = load_u32(scales + 8);
    const uint32_t sc_lo = w0 & 0x3f3f3f3fu, mn_lo = w1 & 0x3f3f3f3fu;
    const uint32_t sc_hi = (w2 & 0x0f0f0f0fu) | ((w0 >> 6) & 0x03030303u) << 4;
    const uint32_t mn_hi = ((w2 >> 4) & 0x0f0f0f0fu) | ((w1 >> 6) & 0x03030303u) << 4;
    const __m128i bytes = _mm_setr_epi32(static_cast<int>(sc_lo), static_cast<int>(sc_hi), static_cast<int>(mn_lo),
                                         static_cast<int>(mn_hi));
    const __m512 dd = _mm512_insertf32x8(_mm512_set1_ps(d), _mm256_set1_ps(dmin), 1);
    _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(bytes)), dd));
}

// q4_k: 64-element chunk c uses qs[32c .. 32c+31]: low nibbles are sub-block 2c, high nibbles 2c+1;
// the table of sub-block j holds d * scale_j * q - dmin * min_j for q = 0..15.
template <class S>
GD_INLINE void q4_k_block(const uint8_t* p, int64_t i0, S& s) {
    alignas(64) float sm[16];
    k4_scales(p + 4, f16(p), f16(p + 2), sm);
    const uint8_t* qs = p + 16;
    GD_UNROLL
    for (int c = 0; c < 4; ++c) {
        const __m512 lut1 = _mm512_fmsub_ps(iota(), _mm512_set1_ps(sm[2 * c]), _mm512_set1_ps(sm[8 + 2 * c]));
        const __m512 lut2 = _mm512_fmsub_ps(iota(), _mm512_set1_ps(sm[2 * c + 1]), _mm512_set1_ps(sm[9 + 2 * c]));
        const __m512i q0 = _mm512_cvtepu8_epi32(load16(qs + 32 * c));
        const __m512i q1 = _mm512_cvtepu8_epi32(load16(qs + 32 * c + 16));
        const int64_t i = i0 + 64 * c;
        s.put4(i, _mm512_permutexvar_ps(q0, lut1), i + 16, _mm512_permutexvar_ps(q1, lut1), i + 32,
               _mm512_permutexvar_ps(_mm512_srli_epi32(q0, 4), lut2), i + 48,
               _mm512_permutexvar_ps(_mm512_srli_epi32(q1, 4), lut2));
    }
}

// q5_k: as q4_k, the 5th bit of element 64c + l is bit 2c of qh[l], of 64c + 32 + l bit 2c + 1.
template <class S>
GD_INLINE void q5_k_block(const uint8_t* p, int64_t i0, S& s) {
    alignas(64) float sm[16];
    k4_scales(p + 4, f16(p), f16(p + 2), sm);
    const uint8_t* qh = p + 16;
    const uint8_t* qs = p + 48;
    // qh bytes moved up by 4, so a right shift by b brings bit b to bit 4.
    const __m512i h0 = _mm512_slli_epi32(_mm512_cvtepu8_epi32(load16(qh)), 4);
    const __m512i h1 = _mm512_slli_epi32(_mm512_cvtepu8_epi32(load16(qh + 16)), 4);
    const __m512 lo_codes = iota(), hi_codes = _mm512_add_ps(iota(), _mm512_set1_ps(16.0f));
    GD_UNROLL
    for (int c = 0; c < 4; ++c) {
        const __m512 d1 = _mm512_set1_ps(sm[2 * c]), mn1 = _mm512_set1_ps(sm[8 + 2 * c]);
        const __m512 d2 = _mm512_set1_ps(sm[2 * c + 1]), mn2 = _mm512_set1_ps(sm[9 + 2 * c]);
        const __m512 t1a = _mm512_fmsub_ps(lo_codes, d1, mn1), t1b = _mm512_fmsub_ps(hi_codes, d1, mn1);
        const __m512 t2a = _mm512_fmsub_ps(lo_codes, d2, mn2), t2b = _mm512_fmsub_ps(hi_codes, d2, mn2);
        const __m512i q0 = _mm512_cvtepu8_epi32(load16(qs + 32 * c));
        const __m512i q1 = _mm512_cvtepu8_epi32(load16(qs + 32 * c + 16));
        const __m128i b1 = _mm_cvtsi32_si128(2 * c), b2 = _mm_cvtsi32_si128(2 * c + 1);
        const int64_t i = i0 + 64 * c;
        s.put4(i, _mm512_permutex2var_ps(t1a, low4_with(q0, _mm512_srl_epi32(h0, b1)), t1b),  //
               i + 16, _mm512_permutex2var_ps(t1a, low4_with(q1, _mm512_srl_epi32(h1, b1)), t1b),
               i + 32, _mm512_permutex2var_ps(t2a, low4_with(_mm512_srli_epi32(q0, 4), _mm512_srl_epi32(h0, b2)), t2b),
               i + 48, _mm512_permutex2var_ps(t2a, low4_with(_mm512_srli_epi32(q1, 4), _mm512_srl_epi32(h1, b2)), t2b));
    }
}

// q6_k: element 128h + 32k + l has its low 4 bits in the low (k < 2) or high (k >= 2) nibble of
// ql[64h + 32(k & 1) + l] and its high 2 bits at bits 2k of qh[32h + l]; each 16 elements share an
// int8 scale. w = d * scale * (q - 32), computed as q * ds - 32 * ds in one rounding.
template <class S>
GD_INLINE void q6_k_block(const uint8_t* p, int64_t i0, S& s) {
    // The 16 scales as floats, once: ds[j] = d * scale_j and ds32[j] = 32 * ds[j].
    alignas(64) float ds[16], ds32[16];
    const __m512 dsv = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(load16(p + 192))), _mm512_set1_ps(f16(p + 208)));
    _mm512_store_ps(ds, dsv);
    _mm512_store_ps(ds32, _mm512_mul_ps(dsv, _mm512_set1_ps(32.0f)));
    const __m512i m4 = _mm512_set1_epi32(0x0f), m30 = _mm512_set1_epi32(0x30);
    GD_UNROLL
    for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = p + 64 * h;
        const uint8_t* qh = p + 128 + 32 * h;
        GD_UNROLL
        for (int half = 0; half < 2; ++half) {
            const int l0 = 16 * half;
            const __m512i hb = _mm512_cvtepu8_epi32(load16(qh + l0));
            const __m512i la = _mm512_cvtepu8_epi32(load16(ql + l0));
            const __m512i lb = _mm512_cvtepu8_epi32(load16(ql + 32 + l0));
            const __m512i q0 = _mm512_or_si512(_mm512_and_si512(la, m4), _mm512_and_si512(_mm512_slli_epi32(hb, 4), m30));
            const __m512i q1 = _mm512_or_si512(_mm512_and_si512(lb, m4), _mm512_and_si512(_mm512_slli_epi32(hb, 2), m30));
            const __m512i q2 = _mm512_or_si512(_mm512_srli_epi32(la, 4), _mm512_and_si512(hb, m30));
            const __m512i q3 = _mm512_or_si512(_mm512_srli_epi32(lb, 4), _mm512_and_si512(_mm512_srli_epi32(hb, 2), m30));
            const int j = 8 * h + half;  // scale of k: j + 2k
            const int64_t i = i0 + 128 * h + l0;
            s.put4(i, _mm512_fmsub_ps(_mm512_cvtepi32_ps(q0), _mm512_set1_ps(ds[j]), _mm512_set1_ps(ds32[j])),  //
                   i + 32, _mm512_fmsub_ps(_mm512_cvtepi32_ps(q1), _mm512_set1_ps(ds[j + 2]), _mm512_set1_ps(ds32[j + 2])),
                   i + 64, _mm512_fmsub_ps(_mm512_cvtepi32_ps(q2), _mm512_set1_ps(ds[j + 4]), _mm512_set1_ps(ds32[j + 4])),
                   i + 96, _mm512_fmsub_ps(_mm512_cvtepi32_ps(q3), _mm512_set1_ps(ds[j + 6]), _mm512_set1_ps(ds32[j + 6])));
        }
    }
}

// iq4_xs: eight sub-blocks of 32, each with its own 6-bit scale over the iq4_nl levels.
template <class S>
GD_INLINE void iq4_xs_block(const uint8_t* p, int64_t i0, S& s) {
    BlockIQ4_XS b;
    std::memcpy(&b, p, sizeof b);
    const float d = f16(b.d);
    const __m512 levels = iq4nl_values();
    GD_UNROLL
    for (int ib = 0; ib < 8; ib += 2) {
        __m512 w0, w1, w2, w3;
        nibbles_lut(b.qs + 16 * ib, _mm512_mul_ps(levels, _mm512_set1_ps(d * static_cast<float>(iq4xs_scale(b, ib) - 32))),
                    w0, w1);
        nibbles_lut(b.qs + 16 * ib + 16,
                    _mm512_mul_ps(levels, _mm512_set1_ps(d * static_cast<float>(iq4xs_scale(b, ib + 1) - 32))), w2, w3);
        const int64_t i = i0 + 32 * ib;
        s.put4(i, w0, i + 16, w1, i + 32, w2, i + 48, w3);
    }
}

#define GD_RUN_K(NAME, BYTES)                                                   \
    template <class S>                                                          \
    GD_AVX512 void run_##NAME(const uint8_t* src, int64_t nb, S& s) {           \
        for (int64_t b = 0; b < nb; ++b) NAME##_block(src + b * (BYTES), 256 * b, s); \
    }
GD_RUN_K(q4_k, 144)
GD_RUN_K(q5_k, 176)
GD_RUN_K(q6_k, 210)
GD_RUN_K(iq4_xs, 136)
#undef GD_RUN_K

// Decodes n elements of one row into the sink; false for the types left to the reference decoder
// (q2_k, q3_k, f64: rare in the models we run).
template <class S>
GD_AVX512 bool run(DType t, const uint8_t* src, int64_t n, S& s) {
    switch (t) {
        case DType::F32: run_plain<F32>(src, n, s); return true;
        case DType::F16: run_plain<F16>(src, n, s); return true;
        case DType::BF16: run_plain<BF16>(src, n, s); return true;
        case DType::Q8_0: run_b32<Q8_0>(src, n / 32, s); return true;
        case DType::Q4_0: run_b32<Q4_0>(src, n / 32, s); return true;
        case DType::Q4_1: run_b32<Q4_1>(src, n / 32, s); return true;
        case DType::Q5_0: run_b32<Q5_0>(src, n / 32, s); return true;
        case DType::Q5_1: run_b32<Q5_1>(src, n / 32, s); return true;
        case DType::IQ4_NL: run_b32<IQ4_NL>(src, n / 32, s); return true;
        case DType::Q4_K: run_q4_k(src, n / 256, s); return true;
        case DType::Q5_K: run_q5_k(src, n / 256, s); return true;
        case DType::Q6_K: run_q6_k(src, n / 256, s); return true;
        case DType::IQ4_XS: run_iq4_xs(src, n / 256, s); return true;
        default: return false;
    }
}

bool has_decoder(DType t) {
    switch (t) {
        case DType::F32: case DType::F16: case DType::BF16: case DType::Q8_0: case DType::Q4_0: case DType::Q4_1:
        case DType::Q5_0: case DType::Q5_1: case DType::IQ4_NL: case DType::Q4_K: case DType::Q5_K:
        case DType::Q6_K: case DType::IQ4_XS: return true;
        default: return false;
    }
}

GD_AVX512 bool gemv(DType t, const uint8_t* w, size_t w_row_bytes, int64_t K, const float* x, float* y, int64_t n0,
                    int64_t n1) {
    if (!has_decoder(t)) return false;
    for (int64_t n = n0; n < n1; ++n) {
        const __m512 z = _mm512_setzero_ps();
        Dot dot{x, z, z, z, z};
        run(t, w + static_cast<size_t>(n) * w_row_bytes, K, dot);
        y[n] = dot.sum();
    }
    return true;
}

GD_AVX512 bool decode(DType t, const uint8_t* src, int64_t n, float* dst) {
    Store s{dst};
    return run(t, src, n, s);
}

// ---- the prefill register tile -------------------------------------------------------------------
// R rows x TT tokens of accumulators (16 at most, plus R weight vectors and one x vector: fits the 32
// zmm registers); per 16 k: R + TT loads for R * TT FMAs.

template <int R, int TT>
GD_AVX512 void tile_rt(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t kc, float* out) {
    __m512 acc[R][TT];
    GD_UNROLL
    for (int r = 0; r < R; ++r) {
        GD_UNROLL
        for (int t = 0; t < TT; ++t) acc[r][t] = _mm512_setzero_ps();
    }
    int64_t k = 0;
    for (; k + 16 <= kc; k += 16) {
        __m512 wv[R];
        GD_UNROLL
        for (int r = 0; r < R; ++r) wv[r] = _mm512_loadu_ps(w + r * ldw + k);
        GD_UNROLL
        for (int t = 0; t < TT; ++t) {
            const __m512 xv = _mm512_loadu_ps(x + t * ldx + k);
            GD_UNROLL
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
        }
    }
    if (k < kc) {
        const __mmask16 m = first_lanes(kc - k);
        __m512 wv[R];
        GD_UNROLL
        for (int r = 0; r < R; ++r) wv[r] = _mm512_maskz_loadu_ps(m, w + r * ldw + k);
        GD_UNROLL
        for (int t = 0; t < TT; ++t) {
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
            GD_UNROLL
            for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
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

constexpr int kRows = 4, kTokens = 4;
using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*);
template <int R>
constexpr TileFn row_tiles[kTokens] = {tile_rt<R, 1>, tile_rt<R, 2>, tile_rt<R, 3>, tile_rt<R, 4>};
constexpr const TileFn* kTiles[kRows] = {row_tiles<1>, row_tiles<2>, row_tiles<3>, row_tiles<4>};

void tile(int rows, int tokens, const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t kc, float* out) {
    kTiles[rows - 1][tokens - 1](w, ldw, x, ldx, kc, out);
}

// ---- f32 helpers ---------------------------------------------------------------------------------

GD_AVX512 float dot(const float* a, const float* b, int64_t n) {
    const __m512 z = _mm512_setzero_ps();
    Dot s{b, z, z, z, z};
    run_plain<F32>(reinterpret_cast<const uint8_t*>(a), n, s);
    return s.sum();
}

GD_AVX512 void axpy(float alpha, const float* x, float* y, int64_t n) {
    const __m512 a = _mm512_set1_ps(alpha);
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
        _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(a, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16)));
    }
    for (; i < n; i += 16) {
        const __mmask16 m = first_lanes(n - i);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(a, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
    }
}

constexpr Kernels kKernels = {gemv, decode, tile, dot, axpy, kRows, kTokens};

}  // namespace

const Kernels* avx512_kernels() { return &kKernels; }

}  // namespace gd::cpu::detail

#else  // not x86-64: only the scalar reference exists

namespace gd::cpu::detail {
const Kernels* avx512_kernels() { return nullptr; }
}  // namespace gd::cpu::detail

#endif
