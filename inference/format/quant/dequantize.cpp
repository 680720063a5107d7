// Reference dequantization of the GGUF block types to f32, bit-exact with ggml's
// dequantize_row_* (same integer decoding and the same float operations in the same order; the
// project builds with -std=c++20, where GCC does not contract a*b+c into FMA).
#include <cfloat>
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

// Calls decode(block, out) for each of the nb blocks at src, each copied to an aligned local first.
template <DType T, class Decode>
void for_each_block(const uint8_t* src, float* dst, uint64_t nb, Decode decode) {
    using Block = typename BlockOf<T>::type;
    Block b;
    for (uint64_t i = 0; i < nb; ++i) {
        std::memcpy(&b, src + i * sizeof(Block), sizeof(Block));
        decode(b, dst + i * BlockOf<T>::elems);
    }
}

float f16(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

void dq_q4_0(const BlockQ4_0& b, float* y) {
    const float d = f16(b.d);
    for (int j = 0; j < QK / 2; ++j) {
        const int x0 = (b.qs[j] & 0x0f) - 8;
        const int x1 = (b.qs[j] >> 4) - 8;
        y[j] = static_cast<float>(x0) * d;
        y[j + QK / 2] = static_cast<float>(x1) * d;
    }
}

void dq_q4_1(const BlockQ4_1& b, float* y) {
    const float d = f16(b.d);
    const float m = f16(b.m);
    for (int j = 0; j < QK / 2; ++j) {
        y[j] = static_cast<float>(b.qs[j] & 0x0f) * d + m;
        y[j + QK / 2] = static_cast<float>(b.qs[j] >> 4) * d + m;
    }
}

// The 5th bit of element i (0..31) of a q5_0 / q5_1 block, as 0 or 16.
int q5_high(uint32_t qh, int i) { return static_cast<int>((qh >> i) & 1u) << 4; }

void dq_q5_0(const BlockQ5_0& b, float* y) {
    const float d = f16(b.d);
    const uint32_t qh = load_u32(b.qh);
    for (int j = 0; j < QK / 2; ++j) {
        const int x0 = ((b.qs[j] & 0x0f) | q5_high(qh, j)) - 16;
        const int x1 = ((b.qs[j] >> 4) | q5_high(qh, j + QK / 2)) - 16;
        y[j] = static_cast<float>(x0) * d;
        y[j + QK / 2] = static_cast<float>(x1) * d;
    }
}

void dq_q5_1(const BlockQ5_1& b, float* y) {
    const float d = f16(b.d);
    const float m = f16(b.m);
    const uint32_t qh = load_u32(b.qh);
    for (int j = 0; j < QK / 2; ++j) {
        const int x0 = (b.qs[j] & 0x0f) | q5_high(qh, j);
        const int x1 = (b.qs[j] >> 4) | q5_high(qh, j + QK / 2);
        y[j] = static_cast<float>(x0) * d + m;
        y[j + QK / 2] = static_cast<float>(x1) * d + m;
    }
}

void dq_q8_0(const BlockQ8_0& b, float* y) {
    const float d = f16(b.d);
    for (int j = 0; j < QK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(b.qs[j])) * d;
}

// Element 128*h + 32*k + l (h half, k 0..3, l 0..31) of q2_k / q3_k has its 2 low bits at bits 2k of
// qs[32*h + l]; sub-block (of 16) is (32*k + l)/16 + 8*h.
void dq_q2_k(const BlockQ2_K& b, float* y) {
    const float d = f16(b.d);
    const float dmin = f16(b.dmin);
    for (int h = 0; h < 2; ++h) {
        const uint8_t* q = b.qs + 32 * h;
        for (int k = 0; k < 4; ++k) {
            for (int half16 = 0; half16 < 2; ++half16) {
                const uint8_t sc = b.scales[8 * h + 2 * k + half16];
                const float dl = d * static_cast<float>(sc & 0x0f);
                const float ml = dmin * static_cast<float>(sc >> 4);
                for (int l = 16 * half16; l < 16 * half16 + 16; ++l)
                    *y++ = dl * static_cast<float>((q[l] >> (2 * k)) & 3) - ml;
            }
        }
    }
}

void dq_q3_k(const BlockQ3_K& b, float* y) {
    const float d_all = f16(b.d);
    for (int h = 0; h < 2; ++h) {
        const uint8_t* q = b.qs + 32 * h;
        for (int k = 0; k < 4; ++k) {
            const int hbit = 4 * h + k;  // hmask bit of elements 32*hbit .. 32*hbit+31
            for (int half16 = 0; half16 < 2; ++half16) {
                const int sub = 8 * h + 2 * k + half16;
                const float dl = d_all * static_cast<float>(q3k_scale(b.scales, sub) - 32);
                for (int l = 16 * half16; l < 16 * half16 + 16; ++l) {
                    const int low = (q[l] >> (2 * k)) & 3;
                    const int v = low - (((b.hmask[l] >> hbit) & 1) ? 0 : 4);
                    *y++ = dl * static_cast<float>(v);
                }
            }
        }
    }
}

// q4_k / q5_k: chunk c (0..3) of 64 elements uses qs[32c .. 32c+31]: low nibbles are sub-block 2c,
// high nibbles sub-block 2c+1.
void dq_q4_k(const BlockQ4_K& b, float* y) {
    const float d = f16(b.d);
    const float dmin = f16(b.dmin);
    for (int c = 0; c < 4; ++c) {
        int sc, m;
        k4_scale_min(b.scales, 2 * c, sc, m);
        const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
        k4_scale_min(b.scales, 2 * c + 1, sc, m);
        const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
        const uint8_t* q = b.qs + 32 * c;
        for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0x0f) - m1;
        for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
}

// q5_k: the 5th bit of element 64c + l is bit 2c of qh[l], of element 64c + 32 + l bit 2c+1.
void dq_q5_k(const BlockQ5_K& b, float* y) {
    const float d = f16(b.d);
    const float dmin = f16(b.dmin);
    for (int c = 0; c < 4; ++c) {
        int sc, m;
        k4_scale_min(b.scales, 2 * c, sc, m);
        const float d1 = d * static_cast<float>(sc), m1 = dmin * static_cast<float>(m);
        k4_scale_min(b.scales, 2 * c + 1, sc, m);
        const float d2 = d * static_cast<float>(sc), m2 = dmin * static_cast<float>(m);
        const uint8_t* q = b.qs + 32 * c;
        for (int l = 0; l < 32; ++l) {
            const int v = (q[l] & 0x0f) + (((b.qh[l] >> (2 * c)) & 1) << 4);
            *y++ = d1 * static_cast<float>(v) - m1;
        }
        for (int l = 0; l < 32; ++l) {
            const int v = (q[l] >> 4) + (((b.qh[l] >> (2 * c + 1)) & 1) << 4);
            *y++ = d2 * static_cast<float>(v) - m2;
        }
    }
}

// q6_k: element 128h + 32k + l: low 4 bits are the low (k < 2) or high (k >= 2) nibble of
// ql[64h + 32*(k&1) + l], high 2 bits are bits 2k of qh[32h + l]; scale scales[8h + 2k + l/16].
// ggml computes d * sc * q as (d * sc) * q.
void dq_q6_k(const BlockQ6_K& b, float* y) {
    const float d = f16(b.d);
    for (int h = 0; h < 2; ++h) {
        const uint8_t* ql = b.ql + 64 * h;
        const uint8_t* qh = b.qh + 32 * h;
        const uint8_t* sc = b.scales + 8 * h;
        for (int k = 0; k < 4; ++k) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t lbyte = ql[32 * (k & 1) + l];
                const int low = k < 2 ? (lbyte & 0x0f) : (lbyte >> 4);
                const int q = (low | (((qh[l] >> (2 * k)) & 3) << 4)) - 32;
                const float s = static_cast<float>(static_cast<int8_t>(sc[2 * k + l / 16]));
                y[32 * k + l] = d * s * static_cast<float>(q);
            }
        }
        y += 128;
    }
}

void dq_iq4_nl(const BlockIQ4_NL& b, float* y) {
    const float d = f16(b.d);
    for (int j = 0; j < QK / 2; ++j) {
        y[j] = d * static_cast<float>(kIq4nlValues[b.qs[j] & 0x0f]);
        y[j + QK / 2] = d * static_cast<float>(kIq4nlValues[b.qs[j] >> 4]);
    }
}

void dq_iq4_xs(const BlockIQ4_XS& b, float* y) {
    const float d = f16(b.d);
    for (int ib = 0; ib < QK_K / 32; ++ib) {
        const float dl = d * static_cast<float>(iq4xs_scale(b, ib) - 32);
        const uint8_t* qs = b.qs + 16 * ib;
        for (int j = 0; j < 16; ++j) {
            y[j] = dl * static_cast<float>(kIq4nlValues[qs[j] & 0x0f]);
            y[j + 16] = dl * static_cast<float>(kIq4nlValues[qs[j] >> 4]);
        }
        y += 32;
    }
}

// double -> float with IEEE round-to-nearest-even and overflow to infinity, without the undefined
// behaviour of converting an out-of-range double.
float f64_to_f32(double v) {
    if (std::isfinite(v) && std::fabs(v) > static_cast<double>(FLT_MAX)) {
        // Halfway between FLT_MAX and 2^128 ties to 2^128 (FLT_MAX has an odd mantissa): infinity.
        const double halfway = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);
        const float mag = std::fabs(v) >= halfway ? INFINITY : FLT_MAX;
        return std::signbit(v) ? -mag : mag;
    }
    return static_cast<float>(v);
}

}  // namespace

void dequantize_row(DType t, const void* src, float* dst, uint64_t n) {
    const DTypeInfo& info = dtype_info(t);
    if (!info.dequantizable)
        throw Error(std::string("no reference dequantization for tensor type ") + info.name);
    const uint64_t bytes = dtype_bytes(t, n);  // throws FormatError for a partial block
    (void)bytes;
    if (n == 0) return;
    const auto* p = static_cast<const uint8_t*>(src);
    const uint64_t nb = n / info.block_elems;
    switch (t) {
        case DType::F32:
            for (uint64_t i = 0; i < n; ++i) dst[i] = std::bit_cast<float>(load_u32(p + 4 * i));
            return;
        case DType::F16:
            for (uint64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(load_u16(p + 2 * i));
            return;
        case DType::BF16:
            for (uint64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(load_u16(p + 2 * i));
            return;
        case DType::F64:
            for (uint64_t i = 0; i < n; ++i) {
                const uint64_t bits = static_cast<uint64_t>(load_u32(p + 8 * i)) |
                                      static_cast<uint64_t>(load_u32(p + 8 * i + 4)) << 32;
                dst[i] = f64_to_f32(std::bit_cast<double>(bits));
            }
            return;
        case DType::Q4_0: return for_each_block<DType::Q4_0>(p, dst, nb, dq_q4_0);
        case DType::Q4_1: return for_each_block<DType::Q4_1>(p, dst, nb, dq_q4_1);
        case DType::Q5_0: return for_each_block<DType::Q5_0>(p, dst, nb, dq_q5_0);
        case DType::Q5_1: return for_each_block<DType::Q5_1>(p, dst, nb, dq_q5_1);
        case DType::Q8_0: return for_each_block<DType::Q8_0>(p, dst, nb, dq_q8_0);
        case DType::Q2_K: return for_each_block<DType::Q2_K>(p, dst, nb, dq_q2_k);
        case DType::Q3_K: return for_each_block<DType::Q3_K>(p, dst, nb, dq_q3_k);
        case DType::Q4_K: return for_each_block<DType::Q4_K>(p, dst, nb, dq_q4_k);
        case DType::Q5_K: return for_each_block<DType::Q5_K>(p, dst, nb, dq_q5_k);
        case DType::Q6_K: return for_each_block<DType::Q6_K>(p, dst, nb, dq_q6_k);
        case DType::IQ4_NL: return for_each_block<DType::IQ4_NL>(p, dst, nb, dq_iq4_nl);
        case DType::IQ4_XS: return for_each_block<DType::IQ4_XS>(p, dst, nb, dq_iq4_xs);
        default: break;
    }
    // dtype.cpp marks a type dequantizable that has no codec here.
    throw Error(std::string("no reference dequantization for tensor type ") + info.name);
}

}  // namespace gd
