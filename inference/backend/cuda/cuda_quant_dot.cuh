#pragma once
// Device helpers that read weights in their stored type (f32, f16, bf16 and the GGUF block types
// q4_0, q4_1, q5_0, q5_1, q8_0, q2_k..q6_k, iq4_nl, iq4_xs): an element decoder for gathers and bulk
// dequantization, and a warp-wide dot product of one stored row with f32 vectors for the matrix-vector
// kernels (cuda_quant_matmul.cu, cuda_moe.cu).
//
// Decoded values are bit-exact with the CPU reference (format/quant/dequantize.cpp): the same integer
// decoding, f16 scales converted exactly, and every product and sum rounded on its own (__fmul_rn,
// __fadd_rn, __fsub_rn: nvcc would otherwise fuse d * q - m into one FMA, which the reference never
// does). Only the order of the dot products' f32 sums differs from the CPU.
//
// Memory and alignment: `row` points to global memory (weights are read through the read-only cache
// with __ldg). Every block size is even, so a row is 2-byte aligned whenever the weight's base is; the
// helpers read bytes and 16-bit words only, never wider loads of weight data. F32 rows must be 4-byte
// aligned. Launchers check this on the host with weight_rows_aligned().
//
// Work split of warp_row_dot: the row is walked in steps of 256 elements (one super-block of the
// k-quants and iq4_xs, eight blocks of the 32-element types); each lane decodes 8 weights of a step, as
// two runs of 4 consecutive elements, so it reads its x values as two float4 and the 32 lanes together
// read the step's weight bytes as one contiguous span. Plain types (f32/f16/bf16) read element
// lane + 32 m instead, which coalesces perfectly and allows any number of columns.
//
// The API: dequant_element<T>(row, i); warp_row_dot<T>(row, x, cols) (one x vector);
// warp_row_dot_rows<T, R>(row, x, ldx, cols, out) (R x rows sharing one decode); warp_row_partial<T, R>
// (the same without the final warp_sum, for kernels that tile the columns); WeightTraits<T>;
// GD_CUDA_DISPATCH_WEIGHT_TYPE(type, T, body); weight_rows_aligned() for the host-side check.
#include <cstddef>
#include <cstdint>
#include <string>

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "common/error.h"
#include "format/dtype.h"
#include "format/quant/quant_blocks.h"

namespace gd::cuda {

// ---- facts per stored type ----

enum class WeightLayout { Plain, Block32, Block256 };

template <DType T>
struct WeightTraits;
#define GD_CUDA_WEIGHT_TRAITS(TYPE, LAYOUT, ELEMS, BYTES)          \
    template <>                                                    \
    struct WeightTraits<DType::TYPE> {                             \
        static constexpr WeightLayout layout = WeightLayout::LAYOUT; \
        static constexpr int block_elems = ELEMS;                  \
        static constexpr int block_bytes = BYTES;                  \
    }
GD_CUDA_WEIGHT_TRAITS(F32, Plain, 1, 4);
GD_CUDA_WEIGHT_TRAITS(F16, Plain, 1, 2);
GD_CUDA_WEIGHT_TRAITS(BF16, Plain, 1, 2);
GD_CUDA_WEIGHT_TRAITS(Q4_0, Block32, 32, 18);
GD_CUDA_WEIGHT_TRAITS(Q4_1, Block32, 32, 20);
GD_CUDA_WEIGHT_TRAITS(Q5_0, Block32, 32, 22);
GD_CUDA_WEIGHT_TRAITS(Q5_1, Block32, 32, 24);
GD_CUDA_WEIGHT_TRAITS(Q8_0, Block32, 32, 34);
GD_CUDA_WEIGHT_TRAITS(IQ4_NL, Block32, 32, 18);
GD_CUDA_WEIGHT_TRAITS(Q2_K, Block256, 256, 84);
GD_CUDA_WEIGHT_TRAITS(Q3_K, Block256, 256, 110);
GD_CUDA_WEIGHT_TRAITS(Q4_K, Block256, 256, 144);
GD_CUDA_WEIGHT_TRAITS(Q5_K, Block256, 256, 176);
GD_CUDA_WEIGHT_TRAITS(Q6_K, Block256, 256, 210);
GD_CUDA_WEIGHT_TRAITS(IQ4_XS, Block256, 256, 136);
#undef GD_CUDA_WEIGHT_TRAITS

// The block layouts of format/quant are the authority; the byte offsets below follow them.
#define GD_CUDA_SAME_BLOCK(TYPE)                                                                           \
    static_assert(WeightTraits<DType::TYPE>::block_bytes == sizeof(quant::BlockOf<DType::TYPE>::type) &&  \
                      WeightTraits<DType::TYPE>::block_elems == quant::BlockOf<DType::TYPE>::elems,      \
                  #TYPE " block size differs from format/quant")
GD_CUDA_SAME_BLOCK(Q4_0);
GD_CUDA_SAME_BLOCK(Q4_1);
GD_CUDA_SAME_BLOCK(Q5_0);
GD_CUDA_SAME_BLOCK(Q5_1);
GD_CUDA_SAME_BLOCK(Q8_0);
GD_CUDA_SAME_BLOCK(IQ4_NL);
GD_CUDA_SAME_BLOCK(Q2_K);
GD_CUDA_SAME_BLOCK(Q3_K);
GD_CUDA_SAME_BLOCK(Q4_K);
GD_CUDA_SAME_BLOCK(Q5_K);
GD_CUDA_SAME_BLOCK(Q6_K);
GD_CUDA_SAME_BLOCK(IQ4_XS);
#undef GD_CUDA_SAME_BLOCK

// Runs the statements after `T` with `constexpr gd::DType T` bound to the runtime `type`; throws
// gd::Error for a type these helpers do not read.
#define GD_CUDA_WEIGHT_CASE(TYPE, T, ...)                   \
    case ::gd::DType::TYPE: {                               \
        constexpr ::gd::DType T = ::gd::DType::TYPE;        \
        __VA_ARGS__;                                        \
    } break;
#define GD_CUDA_DISPATCH_WEIGHT_TYPE(type, T, ...)                                                       \
    switch (type) {                                                                                      \
        GD_CUDA_WEIGHT_CASE(F32, T, __VA_ARGS__)                                                         \
        GD_CUDA_WEIGHT_CASE(F16, T, __VA_ARGS__)                                                         \
        GD_CUDA_WEIGHT_CASE(BF16, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q4_0, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q4_1, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q5_0, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q5_1, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q8_0, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(IQ4_NL, T, __VA_ARGS__)                                                      \
        GD_CUDA_WEIGHT_CASE(Q2_K, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q3_K, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q4_K, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q5_K, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(Q6_K, T, __VA_ARGS__)                                                        \
        GD_CUDA_WEIGHT_CASE(IQ4_XS, T, __VA_ARGS__)                                                      \
        default:                                                                                         \
            throw ::gd::Error(std::string("the CUDA backend cannot compute with weights stored as ") +  \
                              ::gd::dtype_name(type));                                                   \
    }

// Whether the rows of a weight at `data`, `row_bytes` apart, meet the alignment the helpers assume
// (2 bytes; 4 for f32).
inline bool weight_rows_aligned(DType t, const void* data, size_t row_bytes) {
    const size_t a = t == DType::F32 ? 4 : 2;
    return reinterpret_cast<uintptr_t>(data) % a == 0 && row_bytes % a == 0;
}

namespace qd {

// ---- loads of weight bytes (global memory, read-only) ----
__device__ __forceinline__ uint32_t ld_u8(const uint8_t* p) { return __ldg(p); }
// p must be even.
__device__ __forceinline__ uint32_t ld_u16(const uint8_t* p) {
    return __ldg(reinterpret_cast<const unsigned short*>(p));
}
// Four bytes, little-endian, from an even address as two 16-bit loads.
__device__ __forceinline__ uint32_t ld_u32(const uint8_t* p) { return ld_u16(p) | (ld_u16(p + 2) << 16); }
__device__ __forceinline__ float ld_f16(const uint8_t* p) {
    return __half2float(__ushort_as_half(static_cast<unsigned short>(ld_u16(p))));
}
__device__ __forceinline__ float bf16_bits_to_f32(uint32_t bits) { return __uint_as_float(bits << 16); }

// float(q - bias), exactly, for 0 <= q < 2^22 and small bias, without the quarter-rate integer-to-float
// conversion: 2^23 + q is exactly the float whose mantissa bits are q, and (2^23 + q) - (2^23 + bias)
// is exact because both operands lie in [2^23, 2^24).
__device__ __forceinline__ float q2f(uint32_t q, int bias = 0) {
    return __int_as_float(static_cast<int>(0x4B000000u | q)) - (8388608.0f + static_cast<float>(bias));
}
// float of a signed byte given as its raw bits.
__device__ __forceinline__ float i8_to_f(uint32_t byte) { return q2f((byte & 0xffu) ^ 0x80u, 128); }

// The iq4_nl levels plus 128 (so they are bytes 1..241), four to a word, for a register-only lookup
// with __byte_perm instead of an indexed table (which would go to local or constant memory).
constexpr uint32_t iq4_pack(int w) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(quant::kIq4nlValues[4 * w + i] + 128) << (8 * i);
    return v;
}
inline constexpr uint32_t kIq4Packed0 = iq4_pack(0), kIq4Packed1 = iq4_pack(1), kIq4Packed2 = iq4_pack(2),
                          kIq4Packed3 = iq4_pack(3);
static_assert(kIq4Packed0 == 0x3F2D1801u && kIq4Packed3 == 0xF1D9C5B5u, "iq4_nl level table");
// float(kIq4nlValues[nib]) for a nibble 0..15.
__device__ __forceinline__ float iq4_level(uint32_t nib) {
    const uint32_t lo = __byte_perm(kIq4Packed0, kIq4Packed1, nib & 7);
    const uint32_t hi = __byte_perm(kIq4Packed2, kIq4Packed3, nib & 7);
    return q2f(((nib & 8) ? hi : lo) & 0xffu, 128);
}

// 6-bit scale and min of sub-block j (0..7) of q4_k / q5_k (quant::k4_scale_min).
__device__ __forceinline__ void k4_scale_min(const uint8_t* s, int j, uint32_t& sc, uint32_t& m) {
    if (j < 4) {
        sc = ld_u8(s + j) & 63;
        m = ld_u8(s + j + 4) & 63;
    } else {
        const uint32_t b = ld_u8(s + j + 4);
        sc = (b & 0x0f) | ((ld_u8(s + j - 4) >> 6) << 4);
        m = (b >> 4) | ((ld_u8(s + j) >> 6) << 4);
    }
}
// Stored 6-bit scale (0..63) of sub-block j (0..15) of q3_k (quant::q3k_scale).
__device__ __forceinline__ uint32_t q3k_scale(const uint8_t* s, int j) {
    const uint32_t low = j < 8 ? (ld_u8(s + j) & 0x0f) : (ld_u8(s + j - 8) >> 4);
    const uint32_t high = (ld_u8(s + 8 + j % 4) >> (2 * (j / 4))) & 3;
    return low | high << 4;
}
// Stored 6-bit scale (0..63) of sub-block ib (0..7) of the iq4_xs block at b (quant::iq4xs_scale).
__device__ __forceinline__ uint32_t iq4xs_scale(const uint8_t* b, int ib) {
    const uint32_t low = (ld_u8(b + 4 + ib / 2) >> (4 * (ib % 2))) & 0x0f;
    const uint32_t high = (ld_u16(b + 2) >> (2 * ib)) & 3;
    return low | high << 4;
}

__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
// a * b + c and a * b - c with two roundings, as the reference computes them.
__device__ __forceinline__ float mul_add(float a, float b, float c) { return __fadd_rn(__fmul_rn(a, b), c); }
__device__ __forceinline__ float mul_sub(float a, float b, float c) { return __fsub_rn(__fmul_rn(a, b), c); }

}  // namespace qd

// ---- one element ----

// Element i of a stored row, decoded exactly as dequantize_row does. Simple rather than fast: for
// gathers and bulk conversion, where every thread decodes its own element.
template <DType T>
__device__ __forceinline__ float dequant_element(const uint8_t* row, int64_t i) {
    using namespace qd;
    using W = WeightTraits<T>;
    if constexpr (T == DType::F32) {
        return __ldg(reinterpret_cast<const float*>(row) + i);
    } else if constexpr (T == DType::F16) {
        return ld_f16(row + 2 * i);
    } else if constexpr (T == DType::BF16) {
        return bf16_bits_to_f32(ld_u16(row + 2 * i));
    } else if constexpr (W::layout == WeightLayout::Block32) {
        const uint8_t* b = row + (i / 32) * W::block_bytes;
        const int e = static_cast<int>(i % 32);
        const int j = e & 15;   // qs byte (and qh bit) of the element's nibble pair
        const int hi = e >> 4;  // elements 16..31 are the high nibbles
        const float d = ld_f16(b);
        if constexpr (T == DType::Q8_0) {
            return mul(i8_to_f(ld_u8(b + 2 + e)), d);
        } else {
            constexpr int qs = T == DType::Q4_0 || T == DType::IQ4_NL ? 2 : T == DType::Q4_1 ? 4 : T == DType::Q5_0 ? 6 : 8;
            uint32_t q = (ld_u8(b + qs + j) >> (4 * hi)) & 0x0f;
            if constexpr (T == DType::Q5_0 || T == DType::Q5_1) {
                constexpr int qh_at = T == DType::Q5_0 ? 2 : 4;
                q |= ((ld_u32(b + qh_at) >> e) & 1) << 4;  // bit e of qh is the element's 5th bit
            }
            if constexpr (T == DType::Q4_0) return mul(q2f(q, 8), d);
            else if constexpr (T == DType::Q5_0) return mul(q2f(q, 16), d);
            else if constexpr (T == DType::Q4_1 || T == DType::Q5_1) return mul_add(q2f(q), d, ld_f16(b + 2));
            else return mul(d, iq4_level(q));
        }
    } else {  // 256-element super-blocks
        const uint8_t* b = row + (i / 256) * W::block_bytes;
        const int e = static_cast<int>(i % 256);
        if constexpr (T == DType::Q2_K || T == DType::Q3_K || T == DType::Q6_K) {
            // element 128h + 32k + l, sub-block of 16: 8h + 2k + l/16
            const int h = e >> 7, k = (e >> 5) & 3, l = e & 31;
            const int sub = 8 * h + 2 * k + l / 16;
            if constexpr (T == DType::Q2_K) {
                const uint32_t sc = ld_u8(b + sub);
                const float dl = mul(ld_f16(b + 80), q2f(sc & 0x0f));
                const float ml = mul(ld_f16(b + 82), q2f(sc >> 4));
                return mul_sub(dl, q2f((ld_u8(b + 16 + 32 * h + l) >> (2 * k)) & 3), ml);
            } else if constexpr (T == DType::Q3_K) {
                const float dl = mul(ld_f16(b + 108), q2f(q3k_scale(b + 96, sub), 32));
                const uint32_t low = (ld_u8(b + 32 + 32 * h + l) >> (2 * k)) & 3;
                const uint32_t hbit = (ld_u8(b + l) >> (4 * h + k)) & 1;
                return mul(dl, q2f(low | hbit << 2, 4));  // low - 4 when the hmask bit is clear
            } else {
                const uint32_t lbyte = ld_u8(b + 64 * h + 32 * (k & 1) + l);
                const uint32_t low = k < 2 ? (lbyte & 0x0f) : (lbyte >> 4);
                const uint32_t q = low | ((ld_u8(b + 128 + 32 * h + l) >> (2 * k)) & 3) << 4;
                return mul(mul(ld_f16(b + 208), i8_to_f(ld_u8(b + 192 + sub))), q2f(q, 32));
            }
        } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
            // chunk c of 64: qs[32c + l] low nibble is sub-block 2c, high nibble 2c + 1
            const int c = e >> 6, hi = (e >> 5) & 1, l = e & 31;
            uint32_t sc, m;
            k4_scale_min(b + 4, 2 * c + hi, sc, m);
            const float dl = mul(ld_f16(b), q2f(sc));
            const float ml = mul(ld_f16(b + 2), q2f(m));
            constexpr int qs = T == DType::Q4_K ? 16 : 48;
            uint32_t q = (ld_u8(b + qs + 32 * c + l) >> (4 * hi)) & 0x0f;
            if constexpr (T == DType::Q5_K) q |= ((ld_u8(b + 16 + l) >> (2 * c + hi)) & 1) << 4;
            return mul_sub(dl, q2f(q), ml);
        } else {
            static_assert(T == DType::IQ4_XS, "unhandled weight type");
            const int ib = e >> 5, j = e & 15, hi = (e >> 4) & 1;
            const float dl = mul(ld_f16(b), q2f(iq4xs_scale(b, ib), 32));
            return mul(dl, iq4_level((ld_u8(b + 8 + 16 * ib + j) >> (4 * hi)) & 0x0f));
        }
    }
}

// ---- one lane's share of a 256-element step ----

namespace qd {

// Decodes the 8 weights lane `lane` handles in step `step` (elements 256*step ..) of a block-type
// row: v[0..3] are elements a..a+3 and v[4..7] elements b..b+3 of the step (a, b multiples of 4).
// For the 32-element types the lanes of a step cover 8 blocks, 4 lanes per block; the caller skips
// lanes whose block lies past the row's end.
//
// The runs are chosen so that each group of 8 lanes (one phase of a 16-byte shared-memory load)
// reads 8 different float4 slots of 32 banks: 32-element blocks of odd index take their high half
// first for that reason.
template <DType T>
__device__ __forceinline__ void decode_step(const uint8_t* row, int64_t step, int lane, float (&v)[8], int& a,
                                            int& b) {
    using W = WeightTraits<T>;
    if constexpr (W::layout == WeightLayout::Block32 || T == DType::IQ4_XS) {
        // 4 lanes per 32 elements: quarter q owns nibble-pair bytes 4q..4q+3, i.e. elements
        // 4q..4q+3 (low nibbles) and 16+4q..16+4q+3 (high nibbles) of its block / sub-block.
        const int g = lane >> 2;  // block (Block32) or sub-block (iq4_xs) within the step
        const int q = lane & 3;
        const int h0 = g & 1;     // which half goes first (bank spread, see above)
        a = 32 * g + 16 * h0 + 4 * q;
        b = 32 * g + 16 * (h0 ^ 1) + 4 * q;
        if constexpr (T == DType::IQ4_XS) {
            const uint8_t* blk = row + step * W::block_bytes;
            const float dl = mul(ld_f16(blk), q2f(iq4xs_scale(blk, g), 32));
            const uint32_t w = ld_u32(blk + 8 + 16 * g + 4 * q);
#pragma unroll
            for (int r = 0; r < 2; ++r) {
                const int h = h0 ^ r;
#pragma unroll
                for (int k = 0; k < 4; ++k) v[4 * r + k] = mul(dl, iq4_level((w >> (8 * k + 4 * h)) & 0x0f));
            }
        } else {
            const uint8_t* blk = row + (step * 8 + g) * W::block_bytes;
            const float d = ld_f16(blk);
            if constexpr (T == DType::Q8_0) {
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const uint32_t w = ld_u32(blk + 2 + 16 * (h0 ^ r) + 4 * q);
#pragma unroll
                    for (int k = 0; k < 4; ++k) v[4 * r + k] = mul(i8_to_f(w >> (8 * k)), d);
                }
            } else {
                constexpr int qs = T == DType::Q4_0 || T == DType::IQ4_NL ? 2 : T == DType::Q4_1 ? 4 : T == DType::Q5_0 ? 6 : 8;
                const uint32_t w = ld_u32(blk + qs + 4 * q);
                uint32_t qh = 0;
                if constexpr (T == DType::Q5_0) qh = ld_u32(blk + 2);
                if constexpr (T == DType::Q5_1) qh = ld_u32(blk + 4);
                float m = 0.0f;
                if constexpr (T == DType::Q4_1 || T == DType::Q5_1) m = ld_f16(blk + 2);
#pragma unroll
                for (int r = 0; r < 2; ++r) {
                    const int h = h0 ^ r;
#pragma unroll
                    for (int k = 0; k < 4; ++k) {
                        uint32_t n = (w >> (8 * k + 4 * h)) & 0x0f;
                        // the 5th bit of element 16h + 4q + k is bit 16h + 4q + k of qh
                        if constexpr (T == DType::Q5_0 || T == DType::Q5_1) n |= ((qh >> (16 * h + 4 * q + k)) & 1) << 4;
                        float& out = v[4 * r + k];
                        if constexpr (T == DType::Q4_0) out = mul(q2f(n, 8), d);
                        if constexpr (T == DType::Q5_0) out = mul(q2f(n, 16), d);
                        if constexpr (T == DType::Q4_1 || T == DType::Q5_1) out = mul_add(q2f(n), d, m);
                        if constexpr (T == DType::IQ4_NL) out = mul(d, iq4_level(n));
                    }
                }
            }
        }
    } else if constexpr (T == DType::Q4_K || T == DType::Q5_K) {
        // lane = 8c + q: chunk c of 64 elements, bytes qs[32c + 4q .. +3]: low nibbles are elements
        // 64c + 4q.. (sub-block 2c), high nibbles 64c + 32 + 4q.. (sub-block 2c + 1).
        const int c = lane >> 3, q = lane & 7;
        const uint8_t* blk = row + step * W::block_bytes;
        a = 64 * c + 4 * q;
        b = a + 32;
        const float d = ld_f16(blk), dmin = ld_f16(blk + 2);
        uint32_t sc, mn;
        k4_scale_min(blk + 4, 2 * c, sc, mn);
        const float d1 = mul(d, q2f(sc)), m1 = mul(dmin, q2f(mn));
        k4_scale_min(blk + 4, 2 * c + 1, sc, mn);
        const float d2 = mul(d, q2f(sc)), m2 = mul(dmin, q2f(mn));
        constexpr int qs = T == DType::Q4_K ? 16 : 48;
        const uint32_t w = ld_u32(blk + qs + 32 * c + 4 * q);
        uint32_t qh = 0;
        if constexpr (T == DType::Q5_K) qh = ld_u32(blk + 16 + 4 * q);  // qh[l], l = 4q..4q+3
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            uint32_t lo = (w >> (8 * k)) & 0x0f, hi = (w >> (8 * k + 4)) & 0x0f;
            if constexpr (T == DType::Q5_K) {
                lo |= ((qh >> (8 * k + 2 * c)) & 1) << 4;
                hi |= ((qh >> (8 * k + 2 * c + 1)) & 1) << 4;
            }
            v[k] = mul_sub(d1, q2f(lo), m1);
            v[4 + k] = mul_sub(d2, q2f(hi), m2);
        }
    } else if constexpr (T == DType::Q6_K) {
        // lane = 16h + 8kk + q: bytes ql[64h + 32kk + 4q ..]: low nibbles are elements
        // 128h + 32kk + l (k = kk), high nibbles 128h + 32(kk + 2) + l (k = kk + 2), l = 4q..4q+3;
        // their top 2 bits are bits 2k of qh[32h + l]; scale scales[8h + 2k + l/16].
        const int h = lane >> 4, kk = (lane >> 3) & 1, q = lane & 7;
        const uint8_t* blk = row + step * W::block_bytes;
        a = 128 * h + 32 * kk + 4 * q;
        b = a + 64;
        const float d = ld_f16(blk + 208);
        const float ds_lo = mul(d, i8_to_f(ld_u8(blk + 192 + 8 * h + 2 * kk + (q >> 2))));
        const float ds_hi = mul(d, i8_to_f(ld_u8(blk + 192 + 8 * h + 2 * (kk + 2) + (q >> 2))));
        const uint32_t wl = ld_u32(blk + 64 * h + 32 * kk + 4 * q);
        const uint32_t wh = ld_u32(blk + 128 + 32 * h + 4 * q);
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const uint32_t lbyte = (wl >> (8 * k)) & 0xff, hbyte = (wh >> (8 * k)) & 0xff;
            const uint32_t lo = (lbyte & 0x0f) | ((hbyte >> (2 * kk)) & 3) << 4;
            const uint32_t hi = (lbyte >> 4) | ((hbyte >> (2 * (kk + 2))) & 3) << 4;
            v[k] = mul(ds_lo, q2f(lo, 32));
            v[4 + k] = mul(ds_hi, q2f(hi, 32));
        }
    } else {
        static_assert(T == DType::Q2_K || T == DType::Q3_K, "unhandled weight type");
        // lane = 16h + 8kp + q: bytes qs[32h + 4q ..] (l = 4q..4q+3), bit pairs k = 2kp (run a) and
        // 2kp + 1 (run b): elements 128h + 32k + l, scale of sub-block 8h + 2k + l/16.
        const int h = lane >> 4, kp = (lane >> 3) & 1, q = lane & 7;
        const uint8_t* blk = row + step * W::block_bytes;
        a = 128 * h + 64 * kp + 4 * q;
        b = a + 32;
        constexpr int qs = T == DType::Q2_K ? 16 : 32;
        const uint32_t w = ld_u32(blk + qs + 32 * h + 4 * q);
        uint32_t hm = 0;
        if constexpr (T == DType::Q3_K) hm = ld_u32(blk + 4 * q);  // hmask[l]
#pragma unroll
        for (int r = 0; r < 2; ++r) {
            const int k = 2 * kp + r;
            const int sub = 8 * h + 2 * k + (q >> 2);
            if constexpr (T == DType::Q2_K) {
                const uint32_t sc = ld_u8(blk + sub);
                const float dl = mul(ld_f16(blk + 80), q2f(sc & 0x0f));
                const float ml = mul(ld_f16(blk + 82), q2f(sc >> 4));
#pragma unroll
                for (int j = 0; j < 4; ++j) v[4 * r + j] = mul_sub(dl, q2f((w >> (8 * j + 2 * k)) & 3), ml);
            } else {
                const float dl = mul(ld_f16(blk + 108), q2f(q3k_scale(blk + 96, sub), 32));
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    const uint32_t low = (w >> (8 * j + 2 * k)) & 3;
                    const uint32_t hbit = (hm >> (8 * j + 4 * h + k)) & 1;
                    v[4 * r + j] = mul(dl, q2f(low | hbit << 2, 4));
                }
            }
        }
    }
}

template <bool kAligned>
__device__ __forceinline__ float4 load_x4(const float* p) {
    if constexpr (kAligned) return *reinterpret_cast<const float4*>(p);
    else return make_float4(p[0], p[1], p[2], p[3]);
}

template <DType T, int R, bool kAligned>
__device__ __forceinline__ void row_partial(const uint8_t* row, const float* x, int64_t ldx, int64_t cols,
                                            float (&acc)[R]) {
    const int lane = threadIdx.x & 31;
    using W = WeightTraits<T>;
    if constexpr (W::layout == WeightLayout::Plain) {
        for (int64_t base = 0; base < cols; base += 256) {
#pragma unroll
            for (int m = 0; m < 8; ++m) {
                const int64_t i = base + lane + 32 * m;
                if (i < cols) {
                    const float w = dequant_element<T>(row, i);
#pragma unroll
                    for (int r = 0; r < R; ++r) acc[r] = fmaf(w, x[r * ldx + i], acc[r]);
                }
            }
        }
    } else {
        const int64_t steps = (cols + 255) / 256;  // only 32-element types can end in a partial step
        // Two steps in flight give a single x row enough independent loads; with 4 or 8 rows the FMAs
        // already hide the latency, and unrolling would only raise register pressure.
        constexpr int kUnroll = R >= 4 ? 1 : 2;
#pragma unroll kUnroll
        for (int64_t s = 0; s < steps; ++s) {
            if constexpr (W::layout == WeightLayout::Block32) {
                if ((s * 8 + (lane >> 2)) * 32 >= cols) break;  // this lane's block is past the end
            }
            float v[8];
            int a, b;
            decode_step<T>(row, s, lane, v, a, b);
            const float* xs = x + s * 256;
#pragma unroll
            for (int r = 0; r < R; ++r) {
                const float4 xa = load_x4<kAligned>(xs + r * ldx + a);
                const float4 xb = load_x4<kAligned>(xs + r * ldx + b);
                float t = acc[r];
                t = fmaf(v[0], xa.x, t);
                t = fmaf(v[1], xa.y, t);
                t = fmaf(v[2], xa.z, t);
                t = fmaf(v[3], xa.w, t);
                t = fmaf(v[4], xb.x, t);
                t = fmaf(v[5], xb.y, t);
                t = fmaf(v[6], xb.z, t);
                t = fmaf(v[7], xb.w, t);
                acc[r] = t;
            }
        }
    }
}

}  // namespace qd

// ---- warp dot products ----

// The sum over the warp's lanes, in every lane.
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// Adds this lane's part of sum_i W[i] * x[r * ldx + i] (i < cols) to acc[r], r < R, for one stored
// row; warp_sum of acc[r] over the 32 lanes is the dot product. All 32 lanes must call it with the
// same arguments. `cols` is a multiple of the block size; `x` may be in global or shared memory and
// is read as float4 where x and ldx allow it (16-byte aligned, ldx % 4 == 0). Calling it on
// consecutive column slices (row advanced by whole blocks, x by the same columns) accumulates the
// slices, which is how a kernel tiles a long row through shared memory.
template <DType T, int R>
__device__ __forceinline__ void warp_row_partial(const uint8_t* row, const float* x, int64_t ldx, int64_t cols,
                                                 float (&acc)[R]) {
    const bool aligned = (reinterpret_cast<uintptr_t>(x) & 15) == 0 && (R == 1 || (ldx & 3) == 0);
    if (aligned) qd::row_partial<T, R, true>(row, x, ldx, cols, acc);
    else qd::row_partial<T, R, false>(row, x, ldx, cols, acc);
}

// The R dot products of one stored row with x rows 0..R-1 (ldx apart), in every lane.
template <DType T, int R>
__device__ __forceinline__ void warp_row_dot_rows(const uint8_t* row, const float* x, int64_t ldx, int64_t cols,
                                                  float (&out)[R]) {
#pragma unroll
    for (int r = 0; r < R; ++r) out[r] = 0.0f;
    warp_row_partial<T, R>(row, x, ldx, cols, out);
#pragma unroll
    for (int r = 0; r < R; ++r) out[r] = warp_sum(out[r]);
}

// sum_i W[i] * x[i] over one stored row of `cols` elements, in every lane (see warp_row_partial).
template <DType T>
__device__ __forceinline__ float warp_row_dot(const uint8_t* row, const float* x, int64_t cols) {
    float acc[1] = {0.0f};
    warp_row_partial<T, 1>(row, x, cols, cols, acc);
    return warp_sum(acc[0]);
}

}  // namespace gd::cuda
