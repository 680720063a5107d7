// The dense-attention kernel of attention_dense (see cpu_tower_attention.h): vector traits for
// AVX-512 and AVX2 (the kernel itself, cpu_tower_attention_kernel.inc, is included once per ISA),
// and a plain scalar version for other CPUs. Like matmul_avx512.cpp, the SIMD code uses per-function
// target attributes, so this file builds for the x86-64 baseline and runs each copy only where the
// dispatcher found the instructions.
#include "backend/cpu/cpu_tower_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "common/error.h"

#if defined(__x86_64__)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12's AVX-512 intrinsics trip -Wuninitialized once inlined (GCC bug 105593; see matmul_avx512.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>
#endif

namespace gd::cpu::detail {

size_t dense_attention_scratch(int64_t rows, int64_t head_dim) {
    const int64_t dpad = (head_dim + 15) / 16 * 16;
    return static_cast<size_t>(rows * kKeyChunk + rows * dpad + 2 * rows);
}

namespace {

// exp(x) = 2^n * e^r with n = round(x / ln 2) and |r| <= ln 2 / 2; e^r by a degree-7 polynomial
// (the classic single-precision minimax fit, within ~1 ulp), ln 2 split in two so r is exact.
constexpr float kExpMin = -87.33654475f;  // below: the result would be denormal; we return 0
constexpr float kExpMax = 88.72283935f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kP0 = 1.9875691500e-4f, kP1 = 1.3981999507e-3f, kP2 = 8.3334519073e-3f, kP3 = 4.1665795894e-2f,
                kP4 = 1.6666665459e-1f, kP5 = 5.0000001201e-1f;

// The portable version: two passes (scores and max, then exp, sum and the weighted values) per row.
void block_scalar(const DenseAttentionTask& t) {
    std::vector<float> p(static_cast<size_t>(t.keys));
    for (int64_t r = 0; r < t.rows; ++r) {
        const float* q = t.q + r * t.ldq;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t j = 0; j < t.keys; ++j) {
            float s = 0.0f;
            for (int64_t c = 0; c < t.head_dim; ++c) s += q[c] * t.kt[c * t.ldkt + j];
            p[static_cast<size_t>(j)] = s * t.scale;
            mx = std::max(mx, s * t.scale);
        }
        float sum = 0.0f;
        for (auto& x : p) sum += (x = std::exp(x - mx));
        float* out = t.out + r * t.ldo;
        std::fill(out, out + t.head_dim, 0.0f);
        for (int64_t j = 0; j < t.keys; ++j) {
            const float* v = t.v + j * t.ldv;
            const float w = p[static_cast<size_t>(j)];
            for (int64_t c = 0; c < t.head_dim; ++c) out[c] += w * v[c];
        }
        const float inv = 1.0f / sum;
        for (int64_t c = 0; c < t.head_dim; ++c) out[c] *= inv;
    }
}

#if defined(__x86_64__)

#define GD_TT_UNROLL _Pragma("GCC unroll 16")

// ---- AVX-512 ----
#define GD_512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma")))
#define GD_512_INLINE GD_512 __attribute__((always_inline)) static inline

struct V512 {
    using R = __m512;
    using M = __mmask16;
    static constexpr int W = 16;
    static constexpr int kScoreVecs = 4;  // 6 x 64 scores per tile: 24 accumulators
    static constexpr int kValueVecs = 5;  // head_dim up to 80 in one pass (72 on the large tower)
    static constexpr int rows_for(int vecs) { return vecs >= 5 ? 4 : 6; }  // <= 27 of 32 registers

    GD_512_INLINE R zero() { return _mm512_setzero_ps(); }
    GD_512_INLINE R set1(float x) { return _mm512_set1_ps(x); }
    GD_512_INLINE M mask(int n) { return static_cast<M>((1u << n) - 1u); }  // 1 <= n <= 16
    GD_512_INLINE R load(const float* p) { return _mm512_loadu_ps(p); }
    GD_512_INLINE R load_m(const float* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
    GD_512_INLINE void store(float* p, R x) { _mm512_storeu_ps(p, x); }
    GD_512_INLINE void store_m(float* p, R x, M m) { _mm512_mask_storeu_ps(p, m, x); }
    GD_512_INLINE R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
    GD_512_INLINE R add(R a, R b) { return _mm512_add_ps(a, b); }
    GD_512_INLINE R mul(R a, R b) { return _mm512_mul_ps(a, b); }
    GD_512_INLINE R max(R a, R b) { return _mm512_max_ps(a, b); }
    GD_512_INLINE float hsum(R v) {
        const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    GD_512_INLINE float hmax(R v) {
        const __m256 s8 = _mm256_max_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    GD_512_INLINE R exp(R x) {
        const M keep = _mm512_cmp_ps_mask(x, set1(kExpMin), _CMP_GE_OQ);  // false below the range and for -inf
        x = _mm512_min_ps(_mm512_max_ps(x, set1(kExpMin)), set1(kExpMax));
        const R n = _mm512_roundscale_ps(_mm512_mul_ps(x, set1(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        R r = _mm512_fnmadd_ps(n, set1(kLn2Hi), x);
        r = _mm512_fnmadd_ps(n, set1(kLn2Lo), r);
        R p = fma(set1(kP0), r, set1(kP1));
        p = fma(p, r, set1(kP2));
        p = fma(p, r, set1(kP3));
        p = fma(p, r, set1(kP4));
        p = fma(p, r, set1(kP5));
        p = fma(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, set1(1.0f)));
        return _mm512_maskz_mov_ps(keep, _mm512_scalef_ps(p, n));  // p * 2^n
    }
};

#define GD_TT GD_512
#define GD_TT_NS avx512
#define GD_TT_V V512
#include "backend/cpu/cpu_tower_attention_kernel.inc"
#undef GD_TT
#undef GD_TT_NS
#undef GD_TT_V

// ---- AVX2 ----
#define GD_256 __attribute__((target("avx2,fma")))
#define GD_256_INLINE GD_256 __attribute__((always_inline)) static inline

struct V256 {
    using R = __m256;
    using M = __m256i;
    static constexpr int W = 8;
    static constexpr int kScoreVecs = 2;  // 6 x 16 scores per tile: 12 accumulators of 16 registers
    static constexpr int kValueVecs = 2;
    static constexpr int rows_for(int vecs) { return vecs >= 3 ? 2 : 6; }

    GD_256_INLINE R zero() { return _mm256_setzero_ps(); }
    GD_256_INLINE R set1(float x) { return _mm256_set1_ps(x); }
    GD_256_INLINE M mask(int n) {  // lanes [0, n) set, 1 <= n <= 8
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    GD_256_INLINE R load(const float* p) { return _mm256_loadu_ps(p); }
    GD_256_INLINE R load_m(const float* p, M m) { return _mm256_maskload_ps(p, m); }
    GD_256_INLINE void store(float* p, R x) { _mm256_storeu_ps(p, x); }
    GD_256_INLINE void store_m(float* p, R x, M m) { _mm256_maskstore_ps(p, m, x); }
    GD_256_INLINE R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
    GD_256_INLINE R add(R a, R b) { return _mm256_add_ps(a, b); }
    GD_256_INLINE R mul(R a, R b) { return _mm256_mul_ps(a, b); }
    GD_256_INLINE R max(R a, R b) { return _mm256_max_ps(a, b); }
    GD_256_INLINE float hsum(R v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    GD_256_INLINE float hmax(R v) {
        __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_max_ps(s, _mm_movehl_ps(s, s));
        s = _mm_max_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    GD_256_INLINE R exp(R x) {
        const R keep = _mm256_cmp_ps(x, set1(kExpMin), _CMP_GE_OQ);
        x = _mm256_min_ps(_mm256_max_ps(x, set1(kExpMin)), set1(kExpMax));
        const R n = _mm256_round_ps(_mm256_mul_ps(x, set1(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        R r = _mm256_fnmadd_ps(n, set1(kLn2Hi), x);
        r = _mm256_fnmadd_ps(n, set1(kLn2Lo), r);
        R p = fma(set1(kP0), r, set1(kP1));
        p = fma(p, r, set1(kP2));
        p = fma(p, r, set1(kP3));
        p = fma(p, r, set1(kP4));
        p = fma(p, r, set1(kP5));
        p = fma(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, set1(1.0f)));
        // 2^n built in the exponent field; n >= -126 after the clamp, so it stays a normal number.
        const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
        return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), keep);
    }
};

#define GD_TT GD_256
#define GD_TT_NS avx2
#define GD_TT_V V256
#include "backend/cpu/cpu_tower_attention_kernel.inc"
#undef GD_TT
#undef GD_TT_NS
#undef GD_TT_V

#endif  // __x86_64__

}  // namespace

void dense_attention_block(Isa isa, const DenseAttentionTask& t) {
    if (t.rows <= 0 || t.keys <= 0) return;
    if (!isa_supported(isa)) throw Error(std::string("the CPU kernels for ") + isa_name(isa) + " cannot run here");
    switch (isa) {
#if defined(__x86_64__)
        case Isa::Avx512: return avx512::block(t);
        case Isa::Avx2: return avx2::block(t);
#else
        case Isa::Avx512:
        case Isa::Avx2:
#endif
        case Isa::Scalar: return block_scalar(t);
    }
}

}  // namespace gd::cpu::detail
