#pragma once
// Internal to format/quant: the GGUF block layouts as plain byte structs, field for field in the
// order ggml stores them (ggml-common.h), plus little-endian load/store helpers.
//
// Every struct holds only uint8_t arrays, so it has alignment 1, no padding and sizeof equal to the
// on-disk block size. Codecs copy a block from the (arbitrarily aligned) source into one of these
// with memcpy, work on the copy, and copy results back out the same way. Multi-byte fields (f16
// scales, the u32 `qh` of q5_0/q5_1, the u16 `scales_h` of iq4_xs) are little-endian on disk and are
// assembled byte by byte, so the code does not depend on the host byte order.
//
// The sizes are asserted here against the literals below; tests/quant checks the same literals
// against dtype_info(), which is the table the rest of the engine uses.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "format/dtype.h"

namespace gd::quant {

inline constexpr int QK = 32;    // elements per block of the legacy types and iq4_nl
inline constexpr int QK_K = 256;  // elements per super-block of the k-quants and iq4_xs

// ggml's kvalues_iq4nl: the 16 non-linear levels of iq4_nl / iq4_xs (sorted ascending).
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t load_u32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
           static_cast<uint32_t>(p[3]) << 24;
}
inline void store_u16(uint8_t* p, uint16_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}
inline void store_u32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// d * (q - 8), 32 weights: qs[j] low nibble is element j, high nibble element j + 16.
struct BlockQ4_0 {
    uint8_t d[2];
    uint8_t qs[QK / 2];
};
// d * q + m
struct BlockQ4_1 {
    uint8_t d[2];
    uint8_t m[2];
    uint8_t qs[QK / 2];
};
// d * (q - 16), q = nibble | bit << 4; bit i of the little-endian u32 qh belongs to element i.
struct BlockQ5_0 {
    uint8_t d[2];
    uint8_t qh[4];
    uint8_t qs[QK / 2];
};
// d * q + m, q as in q5_0.
struct BlockQ5_1 {
    uint8_t d[2];
    uint8_t m[2];
    uint8_t qh[4];
    uint8_t qs[QK / 2];
};
// d * q, q signed bytes.
struct BlockQ8_0 {
    uint8_t d[2];
    uint8_t qs[QK];
};
// 16 sub-blocks of 16: scales[j] = 4-bit scale | 4-bit min << 4; 2-bit quants.
struct BlockQ2_K {
    uint8_t scales[QK_K / 16];
    uint8_t qs[QK_K / 4];
    uint8_t d[2];
    uint8_t dmin[2];
};
// 16 sub-blocks of 16: 3-bit quants (2 low bits in qs, high bit in hmask), 6-bit signed scales.
struct BlockQ3_K {
    uint8_t hmask[QK_K / 8];
    uint8_t qs[QK_K / 4];
    uint8_t scales[12];
    uint8_t d[2];
};
// 8 sub-blocks of 32: 6-bit scales and mins packed in 12 bytes, 4-bit quants.
struct BlockQ4_K {
    uint8_t d[2];
    uint8_t dmin[2];
    uint8_t scales[12];
    uint8_t qs[QK_K / 2];
};
// As q4_k plus one high bit per quant in qh.
struct BlockQ5_K {
    uint8_t d[2];
    uint8_t dmin[2];
    uint8_t scales[12];
    uint8_t qh[QK_K / 8];
    uint8_t qs[QK_K / 2];
};
// 16 sub-blocks of 16: 6-bit quants (4 low bits in ql, 2 high bits in qh), int8 scales.
struct BlockQ6_K {
    uint8_t ql[QK_K / 2];
    uint8_t qh[QK_K / 4];
    uint8_t scales[QK_K / 16];  // int8
    uint8_t d[2];
};
// d * kIq4nlValues[nibble], nibbles as in q4_0.
struct BlockIQ4_NL {
    uint8_t d[2];
    uint8_t qs[QK / 2];
};
// 8 sub-blocks of 32, each with a 6-bit scale (low 4 bits in scales_l, high 2 in scales_h) - 32.
struct BlockIQ4_XS {
    uint8_t d[2];
    uint8_t scales_h[2];
    uint8_t scales_l[QK_K / 64];
    uint8_t qs[QK_K / 2];
};

// The block struct of each block type, with the facts the codecs need.
template <DType T>
struct BlockOf;
#define GD_QUANT_BLOCK(TYPE, STRUCT, ELEMS, BYTES)                              \
    template <>                                                                 \
    struct BlockOf<DType::TYPE> {                                               \
        using type = STRUCT;                                                    \
        static constexpr int elems = ELEMS;                                     \
        static constexpr size_t bytes = BYTES;                                  \
    };                                                                          \
    static_assert(sizeof(STRUCT) == (BYTES), #STRUCT " must match ggml's size"); \
    static_assert(alignof(STRUCT) == 1, #STRUCT " must be a plain byte layout")
GD_QUANT_BLOCK(Q4_0, BlockQ4_0, QK, 18);
GD_QUANT_BLOCK(Q4_1, BlockQ4_1, QK, 20);
GD_QUANT_BLOCK(Q5_0, BlockQ5_0, QK, 22);
GD_QUANT_BLOCK(Q5_1, BlockQ5_1, QK, 24);
GD_QUANT_BLOCK(Q8_0, BlockQ8_0, QK, 34);
GD_QUANT_BLOCK(Q2_K, BlockQ2_K, QK_K, 84);
GD_QUANT_BLOCK(Q3_K, BlockQ3_K, QK_K, 110);
GD_QUANT_BLOCK(Q4_K, BlockQ4_K, QK_K, 144);
GD_QUANT_BLOCK(Q5_K, BlockQ5_K, QK_K, 176);
GD_QUANT_BLOCK(Q6_K, BlockQ6_K, QK_K, 210);
GD_QUANT_BLOCK(IQ4_NL, BlockIQ4_NL, QK, 18);
GD_QUANT_BLOCK(IQ4_XS, BlockIQ4_XS, QK_K, 136);
#undef GD_QUANT_BLOCK

// The 6-bit scale and min of sub-block j (0..7) of a q4_k / q5_k block: sub-blocks 0-3 keep theirs
// in the low 6 bits of bytes j and j+4; sub-blocks 4-7 keep the low 4 bits in the nibbles of byte
// j+4 (scale low, min high) and the high 2 bits in the top bits of bytes j-4 (scale) and j (min).
inline void k4_scale_min(const uint8_t* s, int j, int& scale, int& min) {
    if (j < 4) {
        scale = s[j] & 63;
        min = s[j + 4] & 63;
    } else {
        scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

// The 6-bit stored scale (0..63, i.e. before subtracting 32) of sub-block j (0..15) of a q3_k block:
// low 4 bits in the nibbles of bytes 0-7 (j < 8: low nibble of byte j, else high nibble of byte
// j-8), high 2 bits in bits 2*(j/4) of byte 8 + j%4.
inline int q3k_scale(const uint8_t* s, int j) {
    const int low = j < 8 ? (s[j] & 0x0f) : (s[j - 8] >> 4);
    const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
    return low | high << 4;
}

// The 6-bit stored scale (0..63) of sub-block ib (0..7) of an iq4_xs block.
inline int iq4xs_scale(const BlockIQ4_XS& b, int ib) {
    const int low = (b.scales_l[ib / 2] >> (4 * (ib % 2))) & 0x0f;
    const int high = (load_u16(b.scales_h) >> (2 * ib)) & 3;
    return low | high << 4;
}

}  // namespace gd::quant
