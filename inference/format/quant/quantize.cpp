// Reference quantization from f32 to the GGUF block types: plain scalar code, deterministic (no
// threads, no data-dependent iteration order, no uninitialised bytes), with no allocation per call.
//
// The approach per type (our own code; the search strategies follow the ideas of ggml's reference
// quantizers, so files we write look like what llama.cpp would write):
//  - q8_0, q4_0, q5_0: symmetric, the block scale taken from the largest-magnitude value.
//  - q4_1, q5_1: affine between the block's min and max.
//  - q2_k, q4_k, q5_k: per sub-block an affine fit (scale, min) found by trying a range of grid
//    spacings and solving a weighted least squares for each; then the sub-block scales and mins are
//    themselves quantized (4 or 6 bits) against the super-block's f16 d / dmin, and the quants are
//    recomputed with the scales as stored.
//  - q3_k, q6_k: per sub-block a signed symmetric scale found by a least-squares search (q3_k:
//    coordinate refinement of the levels; q6_k: a sweep of grid spacings); scales then quantized to
//    6 / 8 signed bits against the super-block's d.
//  - iq4_nl, iq4_xs: the same sweep of spacings on the non-linear iq4 grid; iq4_xs stores 6-bit
//    sub-block scales against an f16 super-block d.
// Every f16 scale is rounded before the quants are chosen, so each quant is the nearest level of the
// block as it will be decoded.
//
// Inputs must be finite; a block whose scale does not fit in f16 (values around 1e5..1e7 and above,
// depending on the type) throws gd::Error rather than writing infinities.
#include <cmath>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/half.h"
#include "format/quant/quant.h"
#include "format/quant/quant_blocks.h"

#include "format/quant/fp_contract_off.h"

namespace gd {
namespace {

using namespace gd::quant;

constexpr float kTiny = 1e-30f;  // a group whose largest magnitude is below this is all zeros

// Round to nearest (ties to even) after clamping to [lo, hi]; NaN goes to lo. The clamp keeps the
// value well inside the range where adding 1.5 * 2^23 leaves the rounded integer in the low
// mantissa bits.
inline int round_clamp(float v, int lo, int hi) {
    const float flo = static_cast<float>(lo), fhi = static_cast<float>(hi);
    v = v > flo ? v : flo;
    v = v < fhi ? v : fhi;
    const float t = v + 12582912.0f;
    return static_cast<int>(std::bit_cast<uint32_t>(t) & 0x007fffffu) - 0x00400000;
}

// max(acc, v) that keeps acc when v is NaN; inline, unlike std::fmax (a library call).
inline float max_of(float acc, float v) { return v > acc ? v : acc; }

[[noreturn]] void throw_scale_overflow(DType t) {
    throw Error(std::string("cannot quantize to ") + dtype_name(t) +
                ": values too large, the block scale does not fit in f16");
}

// f16 bits of v rounded to nearest; throws when it rounds to infinity.
uint16_t f16_nearest(float v, DType t) {
    const uint16_t h = f32_to_f16(v);
    if ((h & 0x7fffu) >= 0x7c00u) throw_scale_overflow(t);
    return h;
}

// f16 bits of the smallest f16 >= v, for v >= 0.
uint16_t f16_ceil(float v, DType t) {
    uint16_t h = f16_nearest(v, t);
    if (f16_to_f32(h) < v) ++h;
    if ((h & 0x7fffu) >= 0x7c00u) throw_scale_overflow(t);
    return h;
}

// f16 bits of the largest f16 <= v.
uint16_t f16_floor(float v, DType t) {
    uint16_t h = f16_nearest(v, t);
    if (f16_to_f32(h) > v) {
        if (h & 0x8000u) ++h;       // negative (or -0): one step away from zero
        else if (h == 0) h = 0x8001u;  // +0 above a tiny negative v: the smallest negative subnormal
        else --h;
    }
    if ((h & 0x7fffu) >= 0x7c00u) throw_scale_overflow(t);
    return h;
}

void check_finite(const float* x, int n, DType t, uint64_t first_index) {
    for (int i = 0; i < n; ++i)
        if (!std::isfinite(x[i]))
            throw Error(std::string("cannot quantize to ") + dtype_name(t) + ": value " + std::to_string(x[i]) +
                        " at index " + std::to_string(first_index + static_cast<uint64_t>(i)) + " is not finite");
}

// Largest magnitude of x[0..n) and the signed value that has it (the first such).
void signed_amax(const float* x, int n, float& amax, float& max) {
    amax = 0.0f;
    max = 0.0f;
    for (int i = 0; i < n; ++i) {
        const float a = std::fabs(x[i]);
        if (a > amax) {
            amax = a;
            max = x[i];
        }
    }
}

// ---------------------------------------------------------------- legacy 32-element blocks

void q_q8_0(const float* x, BlockQ8_0& b) {
    float amax, max;
    signed_amax(x, QK, amax, max);
    // Rounding the scale up means no value falls outside +-127 steps: error <= half a step.
    const uint16_t dh = f16_ceil(amax / 127.0f, DType::Q8_0);
    const float d = f16_to_f32(dh);
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    store_u16(b.d, dh);
    for (int j = 0; j < QK; ++j) b.qs[j] = static_cast<uint8_t>(static_cast<int8_t>(round_clamp(x[j] * id, -127, 127)));
}

// q4_0 / q5_0: levels d * (q - half), q in 0..2*half-1. The largest-magnitude value maps to
// -half exactly (the scale takes its sign), which uses the one extra negative level.
template <int Half>
void symmetric_levels(const float* x, uint16_t& dh, int* q, DType t) {
    float amax, max;
    signed_amax(x, QK, amax, max);
    const float dabs = f16_to_f32(f16_ceil(amax / static_cast<float>(Half), t));
    const float d = max < 0.0f ? dabs : -dabs;
    dh = f32_to_f16(d);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK; ++j) q[j] = round_clamp(x[j] * id, -Half, Half - 1) + Half;
}

// q4_1 / q5_1: levels m + d * q, q in 0..Nmax. m is the block minimum rounded down to f16 and d the
// step that reaches the maximum, rounded up, so every value lies inside the grid.
template <int Nmax>
void affine_levels(const float* x, uint16_t& dh, uint16_t& mh, int* q, DType t) {
    float lo = x[0], hi = x[0];
    for (int j = 1; j < QK; ++j) {
        lo = x[j] < lo ? x[j] : lo;
        hi = x[j] > hi ? x[j] : hi;
    }
    mh = f16_floor(lo, t);
    const float m = f16_to_f32(mh);
    dh = f16_ceil((hi - m) / static_cast<float>(Nmax), t);
    const float d = f16_to_f32(dh);
    const float id = d > 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < QK; ++j) q[j] = round_clamp((x[j] - m) * id, 0, Nmax);
}

void q_q4_0(const float* x, BlockQ4_0& b) {
    uint16_t dh;
    int q[QK];
    symmetric_levels<8>(x, dh, q, DType::Q4_0);
    store_u16(b.d, dh);
    for (int j = 0; j < QK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | q[j + QK / 2] << 4);
}

void q_q5_0(const float* x, BlockQ5_0& b) {
    uint16_t dh;
    int q[QK];
    symmetric_levels<16>(x, dh, q, DType::Q5_0);
    store_u16(b.d, dh);
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
        b.qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | (q[j + QK / 2] & 0x0f) << 4);
        qh |= static_cast<uint32_t>(q[j] >> 4) << j;
        qh |= static_cast<uint32_t>(q[j + QK / 2] >> 4) << (j + QK / 2);
    }
    store_u32(b.qh, qh);
}

void q_q4_1(const float* x, BlockQ4_1& b) {
    uint16_t dh, mh;
    int q[QK];
    affine_levels<15>(x, dh, mh, q, DType::Q4_1);
    store_u16(b.d, dh);
    store_u16(b.m, mh);
    for (int j = 0; j < QK / 2; ++j) b.qs[j] = static_cast<uint8_t>(q[j] | q[j + QK / 2] << 4);
}

void q_q5_1(const float* x, BlockQ5_1& b) {
    uint16_t dh, mh;
    int q[QK];
    affine_levels<31>(x, dh, mh, q, DType::Q5_1);
    store_u16(b.d, dh);
    store_u16(b.m, mh);
    uint32_t qh = 0;
    for (int j = 0; j < QK / 2; ++j) {
        b.qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | (q[j + QK / 2] & 0x0f) << 4);
        qh |= static_cast<uint32_t>(q[j] >> 4) << j;
        qh |= static_cast<uint32_t>(q[j + QK / 2] >> 4) << (j + QK / 2);
    }
    store_u32(b.qh, qh);
}

// ---------------------------------------------------------------- searches for the k-quants

// Sums over a group in four interleaved lanes (element i goes to lane i % 4), added pairwise at the
// end. Independent lanes let the compiler overlap (or vectorise) the additions; the order is fixed,
// so results stay deterministic. Group sizes are multiples of 4.
struct Sum4 {
    float lane[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    float total() const { return (lane[0] + lane[1]) + (lane[2] + lane[3]); }
};

// The searches below work on the group divided by its largest magnitude (so sums of x^4 neither
// overflow for large values nor underflow for tiny ones) and scale the result back.
struct Normalized {
    float x[32];
    float amax;  // 0 for an all-zero group (below kTiny)
};
template <int N>
Normalized normalize(const float* x) {
    static_assert(N <= 32);
    Normalized g{};
    for (int i = 0; i < N; ++i) g.amax = max_of(g.amax, std::fabs(x[i]));
    if (g.amax < kTiny) {
        g.amax = 0.0f;
        return g;
    }
    const float inv = 1.0f / g.amax;
    for (int i = 0; i < N; ++i) g.x[i] = x[i] * inv;
    return g;
}

// Affine fit x ~ scale * L - neg_min with L in 0..nmax and neg_min >= 0 (the offset is never
// positive: all-positive groups use offset 0), minimising sum w * err^2. Tries the grid spanning
// [min(lo, 0), hi] and the spacings (hi - lo) / (nmax + rmin + rdelta * k), k = 0..nstep; for each,
// rounds to levels and solves the 2x2 weighted least squares for (scale, offset), whose residual has
// a closed form (sum w x^2 minus what the fit explains), and keeps the best. The weights only matter
// relative to each other.
struct Affine {
    float scale;
    float neg_min;
};

template <int N>
Affine fit_affine(const float* x_in, const float* w_in, int nmax, float rmin, float rdelta, int nstep) {
    static_assert(N % 4 == 0 && N <= 32);
    const Normalized g = normalize<N>(x_in);
    if (g.amax == 0.0f) return {0.0f, 0.0f};
    const float* x = g.x;
    float wmax = 0.0f;
    for (int i = 0; i < N; ++i) wmax = max_of(wmax, w_in[i]);
    if (!(wmax > 0.0f)) wmax = 1.0f;
    float w[N];
    for (int i = 0; i < N; ++i) w[i] = w_in[i] / wmax;
    float lo = x[0], hi = x[0];
    Sum4 sw, sx, sx2;
    for (int i = 0; i < N; i += 4)
        for (int k = 0; k < 4; ++k) {
            const float xi = x[i + k], wi = w[i + k];
            lo = xi < lo ? xi : lo;
            hi = xi > hi ? xi : hi;
            sw.lane[k] += wi;
            sx.lane[k] += wi * xi;
            sx2.lane[k] += wi * xi * xi;
        }
    const float sum_w = sw.total(), sum_x = sx.total(), sum_x2 = sx2.total();
    if (lo > 0.0f) lo = 0.0f;
    // Fallback (constant group, or no usable candidate): the plain grid over [lo, hi].
    Affine best{(hi - lo) / static_cast<float>(nmax), -lo};
    const float fnmax = static_cast<float>(nmax);
    if (hi - lo > 1e-6f && sum_w > 0.0f) {
        float best_error = INFINITY;
        for (int step = -1; step <= nstep; ++step) {
            // step -1: the plain grid over [lo, hi]
            const float levels =
                step < 0 ? static_cast<float>(nmax) : rmin + rdelta * static_cast<float>(step) + static_cast<float>(nmax);
            const float iscale = levels / (hi - lo);
            Sum4 sl, sl2, sxl;
            for (int i = 0; i < N; i += 4)
                for (int k = 0; k < 4; ++k) {
                    // iscale * (x - lo) >= 0: clamp above, then round half up by truncation.
                    const float v0 = iscale * (x[i + k] - lo);
                    const float v = v0 < fnmax ? v0 : fnmax;
                    const float l = static_cast<float>(static_cast<int>(v + 0.5f));
                    const float wl = w[i + k] * l;
                    sl.lane[k] += wl;
                    sl2.lane[k] += wl * l;
                    sxl.lane[k] += wl * x[i + k];
                }
            const float sum_l = sl.total(), sum_l2 = sl2.total(), sum_xl = sxl.total();
            const float det = sum_w * sum_l2 - sum_l * sum_l;
            if (!(det > 0.0f)) continue;
            float scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            float offset = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            float error;
            if (offset > 0.0f) {  // constrained to offset 0: scale = sum_xl / sum_l2
                offset = 0.0f;
                scale = sum_xl / sum_l2;
                error = sum_x2 - scale * sum_xl;
            } else {
                // At the least-squares optimum the residual is sum w x^2 - scale sum w l x - offset sum w x.
                error = sum_x2 - scale * sum_xl - offset * sum_x;
            }
            if (error < best_error) {
                best_error = error;
                best = {scale, -offset};
            }
        }
    }
    return {best.scale * g.amax, best.neg_min * g.amax};
}

// Signed symmetric fit x ~ scale * l, l in -nmax..nmax-1, weights x^2: sweeps the spacings
// max / (nmax + 0.1 k), k = -9..9 (the largest-magnitude value lands on or near -nmax), and keeps the
// least-squares scale of the best. Returns the scale (0 for an all-zero group).
template <int N>
float fit_symmetric_sweep(const float* x_in, int nmax) {
    const Normalized g = normalize<N>(x_in);
    if (g.amax == 0.0f) return 0.0f;
    const float* x = g.x;
    float amax, max;
    signed_amax(x, N, amax, max);
    float best_scale = 0.0f, best_gain = -1.0f;
    for (int step = -9; step <= 9; ++step) {
        const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / max;
        Sum4 slx, sl2;
        for (int i = 0; i < N; i += 4)
            for (int k = 0; k < 4; ++k) {
                const float l = static_cast<float>(round_clamp(iscale * x[i + k], -nmax, nmax - 1));
                const float wl = x[i + k] * x[i + k] * l;
                slx.lane[k] += wl * x[i + k];
                sl2.lane[k] += wl * l;
            }
        const float sumlx = slx.total(), suml2 = sl2.total();
        // The least-squares scale sumlx/suml2 removes sumlx^2/suml2 of the weighted energy.
        if (suml2 > 0.0f) {
            const float gain = sumlx * sumlx / suml2;
            if (gain > best_gain) {
                best_gain = gain;
                best_scale = sumlx / suml2;
            }
        }
    }
    return best_scale * g.amax;
}

// Signed symmetric 3-bit fit for q3_k: start from the grid with the largest value at -4, then move
// single levels while that improves the weighted least-squares fit (weights x^2), a few passes.
float fit_q3(const float* x_in) {
    constexpr int N = 16, nmax = 4;
    const Normalized g = normalize<N>(x_in);
    if (g.amax == 0.0f) return 0.0f;
    const float* x = g.x;
    float amax, max;
    signed_amax(x, N, amax, max);
    const float iscale = -static_cast<float>(nmax) / max;
    int L[N];
    float sumlx = 0.0f, suml2 = 0.0f;
    for (int i = 0; i < N; ++i) {
        L[i] = round_clamp(iscale * x[i], -nmax, nmax - 1);
        const float w = x[i] * x[i];
        sumlx += w * x[i] * static_cast<float>(L[i]);
        suml2 += w * static_cast<float>(L[i] * L[i]);
    }
    for (int pass = 0; pass < 5; ++pass) {
        int changed = 0;
        for (int i = 0; i < N; ++i) {
            const float w = x[i] * x[i];
            const float li = static_cast<float>(L[i]);
            float slx = sumlx - w * x[i] * li;
            float sl2 = suml2 - w * li * li;
            if (slx == 0.0f || !(sl2 > 0.0f)) continue;
            // The best level for x[i] under the scale the others give (slx / sl2).
            const int nl = round_clamp(x[i] * sl2 / slx, -nmax, nmax - 1);
            if (nl == L[i]) continue;
            const float fnl = static_cast<float>(nl);
            slx += w * x[i] * fnl;
            sl2 += w * fnl * fnl;
            if (slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i] = nl;
                sumlx = slx;
                suml2 = sl2;
                ++changed;
            }
        }
        if (changed == 0) break;
    }
    return suml2 > 0.0f ? sumlx / suml2 * g.amax : 0.0f;
}

// Nearest iq4 level by table: level i owns (mid[i-1], mid[i]] where mid are the midpoints of adjacent
// levels (all multiples of 0.5), so a tie goes to the lower level. kIq4Bucket[t] is the level owning
// the interior of the half-unit bucket [t/2 - 128, t/2 - 127.5); only a value exactly on the bucket's
// lower edge can belong to the level below, which one compare fixes.
struct Iq4Table {
    float mid[15];
    uint8_t bucket[483];  // t = trunc(2v + 256) for v in [-127, 113]
};
constexpr Iq4Table make_iq4_table() {
    Iq4Table tab{};
    for (int i = 0; i < 15; ++i) tab.mid[i] = 0.5f * static_cast<float>(kIq4nlValues[i] + kIq4nlValues[i + 1]);
    for (int t = 0; t < 483; ++t) {
        const float inner = static_cast<float>(t) / 2.0f - 128.0f + 0.25f;  // a point inside the bucket
        int level = 0;
        while (level < 15 && inner > tab.mid[level]) ++level;
        tab.bucket[t] = static_cast<uint8_t>(level);
    }
    return tab;
}
constexpr Iq4Table kIq4Table = make_iq4_table();

inline int iq4_index(float v) {
    v = v > -127.0f ? v : -127.0f;  // NaN -> -127
    v = v < 113.0f ? v : 113.0f;
    int level = kIq4Table.bucket[static_cast<int>(2.0f * v + 256.0f)];
    if (level > 0 && v <= kIq4Table.mid[level - 1]) --level;
    return level;
}

// Signed scale for x ~ d * kIq4nlValues[L] (weights x^2): sweeps spacings that put the
// largest-magnitude value near the -127 end of the grid and keeps the least-squares scale of the best.
float fit_iq4(const float* x_in) {
    constexpr int N = 32;
    const Normalized g = normalize<N>(x_in);
    if (g.amax == 0.0f) return 0.0f;
    const float* x = g.x;
    float amax, max;
    signed_amax(x, N, amax, max);
    float best_scale = 0.0f, best_gain = -1.0f;
    for (int step = -7; step <= 7; ++step) {
        const float id = (static_cast<float>(kIq4nlValues[0]) + 0.1f * static_cast<float>(step)) / max;
        Sum4 sqx, sq2;
        for (int i = 0; i < N; i += 4)
            _Pragma("GCC unroll 4") for (int k = 0; k < 4; ++k) {
                const float q = static_cast<float>(kIq4nlValues[iq4_index(id * x[i + k])]);
                const float wq = x[i + k] * x[i + k] * q;
                sqx.lane[k] += wq * x[i + k];
                sq2.lane[k] += wq * q;
            }
        const float sumqx = sqx.total(), sumq2 = sq2.total();
        if (sumq2 > 0.0f) {
            const float gain = sumqx * sumqx / sumq2;
            if (gain > best_gain) {
                best_gain = gain;
                best_scale = sumqx / sumq2;
            }
        }
    }
    return best_scale * g.amax;
}

// Nearest iq4 levels of x[0..n) under the scale d (any level when d is 0: every one decodes to 0).
void iq4_levels(const float* x, int n, float d, uint8_t* L) {
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(iq4_index(x[i] * id));
}

// ---------------------------------------------------------------- k-quants

// Packs 2-bit levels L[0..256) the way q2_k / q3_k store them: element 128h + 32k + l at bits 2k of
// qs[32h + l].
void pack_2bit(const uint8_t* L, uint8_t* qs) {
    for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 32; ++l) {
            const uint8_t* p = L + 128 * h + l;
            qs[32 * h + l] = static_cast<uint8_t>(p[0] | p[32] << 2 | p[64] << 4 | p[96] << 6);
        }
}

void q_q2_k(const float* x, BlockQ2_K& b) {
    constexpr DType T = DType::Q2_K;
    uint8_t L[QK_K];
    float w[16], scales[16], mins[16];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
        const float* xs = x + 16 * j;
        for (int l = 0; l < 16; ++l) w[l] = std::fabs(xs[l]);
        const Affine a = fit_affine<16>(xs, w, 3, -0.5f, 0.1f, 15);
        scales[j] = a.scale;
        mins[j] = a.neg_min;
        max_scale = max_of(max_scale, a.scale);
        max_min = max_of(max_min, a.neg_min);
    }
    const uint16_t dh = f16_nearest(max_scale / 15.0f, T);
    const uint16_t mh = f16_nearest(max_min / 15.0f, T);
    const float d = f16_to_f32(dh), dmin = f16_to_f32(mh);
    store_u16(b.d, dh);
    store_u16(b.dmin, mh);
    for (int j = 0; j < 16; ++j) {
        const int ls = d > 0.0f ? round_clamp(scales[j] / d, 0, 15) : 0;
        const int lm = dmin > 0.0f ? round_clamp(mins[j] / dmin, 0, 15) : 0;
        b.scales[j] = static_cast<uint8_t>(ls | lm << 4);
        const float dl = d * static_cast<float>(ls), ml = dmin * static_cast<float>(lm);
        for (int l = 0; l < 16; ++l)
            L[16 * j + l] = dl > 0.0f ? static_cast<uint8_t>(round_clamp((x[16 * j + l] + ml) / dl, 0, 3)) : 0;
    }
    pack_2bit(L, b.qs);
}

void q_q3_k(const float* x, BlockQ3_K& b) {
    constexpr DType T = DType::Q3_K;
    float scales[16];
    float max_scale = 0.0f, amax_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = fit_q3(x + 16 * j);
        if (std::fabs(scales[j]) > amax_scale) {
            amax_scale = std::fabs(scales[j]);
            max_scale = scales[j];
        }
    }
    std::memset(&b, 0, sizeof b);
    uint8_t L[QK_K];
    if (amax_scale < kTiny) return;  // all zeros: d = 0 decodes every element to 0
    // The largest scale gets the stored value -32 (the 6-bit range is -32..31).
    const uint16_t dh = f16_nearest(max_scale / -32.0f, T);
    const float d = f16_to_f32(dh);
    store_u16(b.d, dh);
    for (int j = 0; j < 16; ++j) {
        const int ls = d != 0.0f ? round_clamp(scales[j] / d, -32, 31) : 0;
        const int raw = ls + 32;
        if (j < 8) b.scales[j] |= static_cast<uint8_t>(raw & 0x0f);
        else b.scales[j - 8] |= static_cast<uint8_t>((raw & 0x0f) << 4);
        b.scales[8 + j % 4] |= static_cast<uint8_t>((raw >> 4) << (2 * (j / 4)));
        const float dl = d * static_cast<float>(ls);
        const float idl = dl != 0.0f ? 1.0f / dl : 0.0f;
        for (int l = 0; l < 16; ++l) {
            const int q = dl != 0.0f ? round_clamp(x[16 * j + l] * idl, -4, 3) : 0;
            L[16 * j + l] = static_cast<uint8_t>(q + 4);
        }
    }
    // High bit of element i goes to bit i/32 of hmask[i%32]; the 2 low bits to qs.
    for (int i = 0; i < QK_K; ++i) {
        if (L[i] > 3) {
            b.hmask[i % 32] |= static_cast<uint8_t>(1u << (i / 32));
            L[i] = static_cast<uint8_t>(L[i] - 4);
        }
    }
    pack_2bit(L, b.qs);
}

// q4_k / q5_k share everything but the number of levels and how the quants are stored.
template <int Nmax>
void k4_scales_and_levels(const float* x, uint8_t* scales12, uint8_t* d_out, uint8_t* dmin_out, uint8_t* L, DType t) {
    constexpr float rmin = Nmax == 15 ? -1.0f : -0.5f;
    constexpr int nstep = Nmax == 15 ? 20 : 15;
    float w[32], scales[8], mins[8];
    float max_scale = 0.0f, max_min = 0.0f;
    for (int j = 0; j < 8; ++j) {
        const float* xs = x + 32 * j;
        float sum_x2 = 0.0f;
        for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
        const float av = std::sqrt(sum_x2 / 32.0f);
        for (int l = 0; l < 32; ++l) w[l] = av + std::fabs(xs[l]);
        const Affine a = fit_affine<32>(xs, w, Nmax, rmin, 0.1f, nstep);
        scales[j] = a.scale;
        mins[j] = a.neg_min;
        max_scale = max_of(max_scale, a.scale);
        max_min = max_of(max_min, a.neg_min);
    }
    const uint16_t dh = f16_nearest(max_scale / 63.0f, t);
    const uint16_t mh = f16_nearest(max_min / 63.0f, t);
    const float d = f16_to_f32(dh), dmin = f16_to_f32(mh);
    store_u16(d_out, dh);
    store_u16(dmin_out, mh);
    std::memset(scales12, 0, 12);
    for (int j = 0; j < 8; ++j) {
        const int ls = d > 0.0f ? round_clamp(scales[j] / d, 0, 63) : 0;
        const int lm = dmin > 0.0f ? round_clamp(mins[j] / dmin, 0, 63) : 0;
        if (j < 4) {
            scales12[j] = static_cast<uint8_t>(ls);
            scales12[j + 4] = static_cast<uint8_t>(lm);
        } else {
            scales12[j + 4] = static_cast<uint8_t>((ls & 0x0f) | (lm & 0x0f) << 4);
            scales12[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
            scales12[j] |= static_cast<uint8_t>((lm >> 4) << 6);
        }
        const float dl = d * static_cast<float>(ls), ml = dmin * static_cast<float>(lm);
        for (int l = 0; l < 32; ++l)
            L[32 * j + l] = dl > 0.0f ? static_cast<uint8_t>(round_clamp((x[32 * j + l] + ml) / dl, 0, Nmax)) : 0;
    }
}

void q_q4_k(const float* x, BlockQ4_K& b) {
    uint8_t L[QK_K];
    k4_scales_and_levels<15>(x, b.scales, b.d, b.dmin, L, DType::Q4_K);
    // Chunk c of 64: low nibbles of qs[32c + l] are element 64c + l, high nibbles 64c + 32 + l.
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) b.qs[32 * c + l] = static_cast<uint8_t>(L[64 * c + l] | L[64 * c + 32 + l] << 4);
}

void q_q5_k(const float* x, BlockQ5_K& b) {
    uint8_t L[QK_K];
    k4_scales_and_levels<31>(x, b.scales, b.d, b.dmin, L, DType::Q5_K);
    std::memset(b.qh, 0, sizeof b.qh);
    for (int c = 0; c < 4; ++c)
        for (int l = 0; l < 32; ++l) {
            const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
            b.qs[32 * c + l] = static_cast<uint8_t>((lo & 0x0f) | (hi & 0x0f) << 4);
            b.qh[l] |= static_cast<uint8_t>((lo >> 4) << (2 * c) | (hi >> 4) << (2 * c + 1));
        }
}

void q_q6_k(const float* x, BlockQ6_K& b) {
    constexpr DType T = DType::Q6_K;
    float scales[16];
    float max_scale = 0.0f, amax_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
        scales[j] = fit_symmetric_sweep<16>(x + 16 * j, 32);
        if (std::fabs(scales[j]) > amax_scale) {
            amax_scale = std::fabs(scales[j]);
            max_scale = scales[j];
        }
    }
    std::memset(&b, 0, sizeof b);
    uint8_t L[QK_K];
    if (amax_scale < kTiny) {  // all zeros: d = 0, every quant at the middle level
        std::memset(L, 32, sizeof L);
    } else {
        // The largest scale gets the int8 value -128.
        const uint16_t dh = f16_nearest(max_scale / -128.0f, T);
        const float d = f16_to_f32(dh);
        store_u16(b.d, dh);
        for (int j = 0; j < 16; ++j) {
            const int sc = d != 0.0f ? round_clamp(scales[j] / d, -128, 127) : 0;
            b.scales[j] = static_cast<uint8_t>(static_cast<int8_t>(sc));
            const float dl = d * static_cast<float>(sc);
            const float idl = dl != 0.0f ? 1.0f / dl : 0.0f;
            for (int l = 0; l < 16; ++l) {
                const int q = dl != 0.0f ? round_clamp(x[16 * j + l] * idl, -32, 31) : 0;
                L[16 * j + l] = static_cast<uint8_t>(q + 32);
            }
        }
    }
    // Element 128h + 32k + l: low nibble in ql[64h + 32(k&1) + l] (low half for k < 2, high half
    // otherwise), high 2 bits at bits 2k of qh[32h + l].
    for (int h = 0; h < 2; ++h)
        for (int l = 0; l < 32; ++l) {
            const uint8_t* p = L + 128 * h + l;
            b.ql[64 * h + l] = static_cast<uint8_t>((p[0] & 0x0f) | (p[64] & 0x0f) << 4);
            b.ql[64 * h + 32 + l] = static_cast<uint8_t>((p[32] & 0x0f) | (p[96] & 0x0f) << 4);
            b.qh[32 * h + l] = static_cast<uint8_t>((p[0] >> 4) | (p[32] >> 4) << 2 | (p[64] >> 4) << 4 | (p[96] >> 4) << 6);
        }
}

// ---------------------------------------------------------------- iq4

void q_iq4_nl(const float* x, BlockIQ4_NL& b) {
    const uint16_t dh = f16_nearest(fit_iq4(x), DType::IQ4_NL);
    store_u16(b.d, dh);
    uint8_t L[QK];
    iq4_levels(x, QK, f16_to_f32(dh), L);
    for (int j = 0; j < QK / 2; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | L[j + QK / 2] << 4);
}

void q_iq4_xs(const float* x, BlockIQ4_XS& b) {
    constexpr DType T = DType::IQ4_XS;
    float scales[8];
    float max_scale = 0.0f, amax_scale = 0.0f;
    for (int ib = 0; ib < 8; ++ib) {
        scales[ib] = fit_iq4(x + 32 * ib);
        if (std::fabs(scales[ib]) > amax_scale) {
            amax_scale = std::fabs(scales[ib]);
            max_scale = scales[ib];
        }
    }
    std::memset(&b, 0, sizeof b);
    // The largest scale gets the stored value -32 (6-bit range -32..31).
    const uint16_t dh = f16_nearest(max_scale / -32.0f, T);
    const float d = f16_to_f32(dh);
    store_u16(b.d, dh);
    uint16_t scales_h = 0;
    for (int ib = 0; ib < 8; ++ib) {
        const int ls = d != 0.0f ? round_clamp(scales[ib] / d, -32, 31) : 0;
        const int raw = ls + 32;
        b.scales_l[ib / 2] |= static_cast<uint8_t>((raw & 0x0f) << (4 * (ib % 2)));
        scales_h = static_cast<uint16_t>(scales_h | (raw >> 4) << (2 * ib));
        uint8_t L[32];
        iq4_levels(x + 32 * ib, 32, d * static_cast<float>(ls), L);
        for (int j = 0; j < 16; ++j) b.qs[16 * ib + j] = static_cast<uint8_t>(L[j] | L[j + 16] << 4);
    }
    store_u16(b.scales_h, scales_h);
}

template <DType T, class Encode>
void for_each_block(const float* src, uint8_t* dst, uint64_t nb, Encode encode) {
    using Block = typename BlockOf<T>::type;
    constexpr int n = BlockOf<T>::elems;
    Block b;
    for (uint64_t i = 0; i < nb; ++i) {
        const float* x = src + i * n;
        check_finite(x, n, T, i * n);
        std::memset(&b, 0, sizeof b);
        encode(x, b);
        std::memcpy(dst + i * sizeof(Block), &b, sizeof(Block));
    }
}

}  // namespace

bool can_quantize(DType t) {
    switch (t) {
        case DType::F32:
        case DType::F16:
        case DType::BF16:
        case DType::Q8_0:
        case DType::Q4_0:
        case DType::Q4_1:
        case DType::Q5_0:
        case DType::Q5_1:
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
        case DType::IQ4_NL:
        case DType::IQ4_XS: return true;
        default: return false;
    }
}

void quantize_row(DType t, const float* src, void* dst, uint64_t n) {
    if (!can_quantize(t)) throw Error(std::string("cannot quantize to tensor type ") + dtype_name(t));
    const DTypeInfo& info = dtype_info(t);
    (void)dtype_bytes(t, n);  // throws FormatError for a partial block
    if (n == 0) return;
    auto* p = static_cast<uint8_t*>(dst);
    const uint64_t nb = n / info.block_elems;
    switch (t) {
        case DType::F32:
            for (uint64_t i = 0; i < n; ++i) store_u32(p + 4 * i, std::bit_cast<uint32_t>(src[i]));
            return;
        case DType::F16:
            for (uint64_t i = 0; i < n; ++i) store_u16(p + 2 * i, f32_to_f16(src[i]));
            return;
        case DType::BF16:
            for (uint64_t i = 0; i < n; ++i) store_u16(p + 2 * i, f32_to_bf16(src[i]));
            return;
        case DType::Q4_0: return for_each_block<DType::Q4_0>(src, p, nb, q_q4_0);
        case DType::Q4_1: return for_each_block<DType::Q4_1>(src, p, nb, q_q4_1);
        case DType::Q5_0: return for_each_block<DType::Q5_0>(src, p, nb, q_q5_0);
        case DType::Q5_1: return for_each_block<DType::Q5_1>(src, p, nb, q_q5_1);
        case DType::Q8_0: return for_each_block<DType::Q8_0>(src, p, nb, q_q8_0);
        case DType::Q2_K: return for_each_block<DType::Q2_K>(src, p, nb, q_q2_k);
        case DType::Q3_K: return for_each_block<DType::Q3_K>(src, p, nb, q_q3_k);
        case DType::Q4_K: return for_each_block<DType::Q4_K>(src, p, nb, q_q4_k);
        case DType::Q5_K: return for_each_block<DType::Q5_K>(src, p, nb, q_q5_k);
        case DType::Q6_K: return for_each_block<DType::Q6_K>(src, p, nb, q_q6_k);
        case DType::IQ4_NL: return for_each_block<DType::IQ4_NL>(src, p, nb, q_iq4_nl);
        case DType::IQ4_XS: return for_each_block<DType::IQ4_XS>(src, p, nb, q_iq4_xs);
        default: break;
    }
    throw Error(std::string("cannot quantize to tensor type ") + dtype_name(t));
}

}  // namespace gd
