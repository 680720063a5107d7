// Reference dequantization on hand-built blocks. Each test writes one block byte by byte following
// ggml's block layout (the offsets are spelled out here, not taken from the implementation), and
// checks every element against the value derived from the format description in the comments, plus
// a few spot values worked out by hand. Byte patterns are chosen so that a wrong bit order, a
// swapped nibble or a wrong sub-block index changes the result.
//
// The spot values were also cross-checked once against the numpy reference dequantizers of the gguf
// Python package (gguf.quants.dequantize), which agreed bit for bit on these and on random blocks.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "format/dtype.h"
#include "format/quant/quant.h"
#include "format/quant/quant_blocks.h"

namespace gd {
namespace {

using Bytes = std::vector<uint8_t>;

// ggml's kvalues_iq4nl, typed in from the format description.
constexpr int kIq4[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

uint8_t pattern(int k, int mul, int add) { return static_cast<uint8_t>((k * mul + add) & 0xff); }

void put_u16(Bytes& b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v & 0xff);
    b[off + 1] = static_cast<uint8_t>(v >> 8);
}

// Dequantizes `bytes` as `t` from three different alignments (offsets 0, 1 and 3 into a buffer),
// checks the three agree bit for bit, and returns the values.
std::vector<float> deq(DType t, const Bytes& bytes) {
    const auto& info = dtype_info(t);
    EXPECT_EQ(bytes.size() % info.block_bytes, 0u);
    const uint64_t n = bytes.size() / info.block_bytes * info.block_elems;
    std::vector<float> first;
    for (size_t offset : {size_t{0}, size_t{1}, size_t{3}}) {
        Bytes buf(bytes.size() + offset);
        std::memcpy(buf.data() + offset, bytes.data(), bytes.size());
        std::vector<float> out(n, -12345.0f);
        dequantize_row(t, buf.data() + offset, out.data(), n);
        if (first.empty()) {
            first = out;
        } else {
            for (uint64_t i = 0; i < n; ++i)
                EXPECT_EQ(std::bit_cast<uint32_t>(out[i]), std::bit_cast<uint32_t>(first[i]))
                    << dtype_name(t) << " element " << i << " differs at source offset " << offset;
        }
    }
    return first;
}

void expect_bits_eq(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i)
        EXPECT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
            << what << " element " << i << ": got " << got[i] << ", want " << want[i];
}

// ------------------------------------------------------------------------------------------------
// Block sizes: the byte structs the codecs use agree with the engine's dtype table.

TEST(QuantBlocks, LayoutSizesMatchDtypeTable) {
    using namespace gd::quant;
    EXPECT_EQ(BlockOf<DType::Q4_0>::bytes, dtype_info(DType::Q4_0).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q4_1>::bytes, dtype_info(DType::Q4_1).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q5_0>::bytes, dtype_info(DType::Q5_0).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q5_1>::bytes, dtype_info(DType::Q5_1).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q8_0>::bytes, dtype_info(DType::Q8_0).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q2_K>::bytes, dtype_info(DType::Q2_K).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q3_K>::bytes, dtype_info(DType::Q3_K).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q4_K>::bytes, dtype_info(DType::Q4_K).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q5_K>::bytes, dtype_info(DType::Q5_K).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q6_K>::bytes, dtype_info(DType::Q6_K).block_bytes);
    EXPECT_EQ(BlockOf<DType::IQ4_NL>::bytes, dtype_info(DType::IQ4_NL).block_bytes);
    EXPECT_EQ(BlockOf<DType::IQ4_XS>::bytes, dtype_info(DType::IQ4_XS).block_bytes);
    EXPECT_EQ(BlockOf<DType::Q4_K>::elems, static_cast<int>(dtype_info(DType::Q4_K).block_elems));
    EXPECT_EQ(BlockOf<DType::IQ4_NL>::elems, static_cast<int>(dtype_info(DType::IQ4_NL).block_elems));
    for (int i = 0; i < 16; ++i) EXPECT_EQ(kIq4nlValues[i], kIq4[i]);
}

// ------------------------------------------------------------------------------------------------
// Plain float types.

TEST(QuantBlocks, F32IsCopiedLittleEndian) {
    // 1.0f = 0x3f800000 stored as 00 00 80 3f; -2.5f = 0xc0200000; smallest subnormal 0x00000001.
    const Bytes b = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0, 0x01, 0x00, 0x00, 0x00};
    expect_bits_eq(deq(DType::F32, b), {1.0f, -2.5f, std::bit_cast<float>(0x00000001u)}, "f32");
}

TEST(QuantBlocks, F16Values) {
    // 0x3c00 = 1, 0xc000 = -2, 0x3555 = 1 + 0x155/1024 times 2^-2 = 0.333251953125,
    // 0x0001 = 2^-24 (smallest subnormal), 0x7bff = 65504, 0x7c00 = +inf, 0x8000 = -0.
    Bytes b;
    for (uint16_t h : {0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x7c00, 0x8000}) {
        b.push_back(static_cast<uint8_t>(h & 0xff));
        b.push_back(static_cast<uint8_t>(h >> 8));
    }
    expect_bits_eq(deq(DType::F16, b),
                   {1.0f, -2.0f, 0.333251953125f, std::ldexp(1.0f, -24), 65504.0f, INFINITY, -0.0f}, "f16");
}

TEST(QuantBlocks, Bf16Values) {
    // bf16 is the top half of an f32: 0x3f80 = 1, 0xc0a0 = -5, 0x3eab = 0x3eab0000 = 0.333984375.
    const Bytes b = {0x80, 0x3f, 0xa0, 0xc0, 0xab, 0x3e};
    expect_bits_eq(deq(DType::BF16, b), {1.0f, -5.0f, 0.333984375f}, "bf16");
}

TEST(QuantBlocks, F64RoundsToNearestAndOverflowsToInfinity) {
    // 0.1 rounds to the float 0.1f; 1e300 overflows to inf; a value above FLT_MAX but below the
    // halfway point to 2^128 rounds down to FLT_MAX; the halfway point itself ties to infinity.
    const double halfway = std::ldexp(2.0 - std::ldexp(1.0, -24), 127);
    const std::vector<double> in = {0.1, 1e300, -1e300, 3.4028235e38, halfway, -2.75};
    Bytes b(in.size() * 8);
    std::memcpy(b.data(), in.data(), b.size());  // little-endian host, as the engine requires
    expect_bits_eq(deq(DType::F64, b), {0.1f, INFINITY, -INFINITY, FLT_MAX, INFINITY, -2.75f}, "f64");
}

// ------------------------------------------------------------------------------------------------
// Legacy 32-element blocks.

TEST(QuantBlocks, Q4_0) {
    // block_q4_0 = { f16 d; u8 qs[16] } (18 bytes). Element j < 16 is the LOW nibble of qs[j],
    // element j + 16 the HIGH nibble; value = (q - 8) * d.
    // d = 0.5 (f16 0x3800); qs[j] = j | (15 - j) << 4:
    //   y[j]      = (j - 8) * 0.5      -> y[0] = -4, y[8] = 0, y[15] = 3.5
    //   y[j + 16] = (15 - j - 8) * 0.5 -> y[16] = 3.5, y[31] = -4
    Bytes b(18);
    put_u16(b, 0, 0x3800);
    for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
        want[j] = static_cast<float>(j - 8) * 0.5f;
        want[j + 16] = static_cast<float>(7 - j) * 0.5f;
    }
    const auto y = deq(DType::Q4_0, b);
    expect_bits_eq(y, want, "q4_0");
    EXPECT_EQ(y[0], -4.0f);
    EXPECT_EQ(y[15], 3.5f);
    EXPECT_EQ(y[16], 3.5f);
    EXPECT_EQ(y[31], -4.0f);
}

TEST(QuantBlocks, Q4_1) {
    // block_q4_1 = { f16 d; f16 m; u8 qs[16] } (20 bytes); value = q * d + m.
    // d = 0.25 (0x3400), m = -1.5 (0xbe00); qs[j] = j | ((7j) & 15) << 4:
    //   y[j] = j * 0.25 - 1.5; y[j + 16] = ((7j) & 15) * 0.25 - 1.5
    //   y[0] = -1.5, y[15] = 2.25, y[17] = 7 * 0.25 - 1.5 = 0.25, y[18] = 14 * 0.25 - 1.5 = 2,
    //   y[19] = (21 & 15 = 5) * 0.25 - 1.5 = -0.25. Swapping d and m would give y[0] = 0.25.
    Bytes b(20);
    put_u16(b, 0, 0x3400);
    put_u16(b, 2, 0xbe00);
    for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | ((7 * j) & 15) << 4);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
        want[j] = static_cast<float>(j) * 0.25f - 1.5f;
        want[j + 16] = static_cast<float>((7 * j) & 15) * 0.25f - 1.5f;
    }
    const auto y = deq(DType::Q4_1, b);
    expect_bits_eq(y, want, "q4_1");
    EXPECT_EQ(y[0], -1.5f);
    EXPECT_EQ(y[15], 2.25f);
    EXPECT_EQ(y[17], 0.25f);
    EXPECT_EQ(y[18], 2.0f);
    EXPECT_EQ(y[19], -0.25f);
}

// Bit i of the 4 little-endian qh bytes: the 5th bit of element i of a q5_0 / q5_1 block.
int qh_bit(const uint8_t* qh, int i) { return (qh[i / 8] >> (i % 8)) & 1; }

TEST(QuantBlocks, Q5_0) {
    // block_q5_0 = { f16 d; u8 qh[4]; u8 qs[16] } (22 bytes). q = nibble | bit << 4, where bit is bit i
    // of qh read as a little-endian u32 (byte i/8, bit i%8); value = (q - 16) * d.
    // d = 0.25 (0x3400); qh = 01 80 f0 5a; qs[j] = j | (15 - j) << 4:
    //   y[0]:  nibble 0, qh bit 0 (byte 0 = 0x01) = 1  -> (16 - 16) * 0.25 = 0
    //   y[1]:  nibble 1, bit 1 = 0                     -> (1 - 16) * 0.25 = -3.75
    //   y[15]: nibble 15, bit 15 (byte 1 = 0x80, bit 7) = 1 -> (31 - 16) * 0.25 = 3.75
    //   y[16]: high nibble of qs[0] = 15, bit 16 (byte 2 = 0xf0, bit 0) = 0 -> -0.25
    //   y[20]: high nibble of qs[4] = 11, bit 20 (byte 2, bit 4) = 1 -> (27 - 16) * 0.25 = 2.75
    //   y[24]: high nibble of qs[8] = 7, bit 24 (byte 3 = 0x5a, bit 0) = 0 -> -2.25
    //   y[25]: high nibble of qs[9] = 6, bit 25 (byte 3, bit 1) = 1 -> 1.5
    // A big-endian qh, or bit j + 12 instead of j + 16, gives different values.
    Bytes b(22);
    put_u16(b, 0, 0x3400);
    const uint8_t qh[4] = {0x01, 0x80, 0xf0, 0x5a};
    std::memcpy(&b[2], qh, 4);
    for (int j = 0; j < 16; ++j) b[6 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
        want[j] = static_cast<float>((j | qh_bit(qh, j) << 4) - 16) * 0.25f;
        want[j + 16] = static_cast<float>(((15 - j) | qh_bit(qh, j + 16) << 4) - 16) * 0.25f;
    }
    const auto y = deq(DType::Q5_0, b);
    expect_bits_eq(y, want, "q5_0");
    EXPECT_EQ(y[0], 0.0f);
    EXPECT_EQ(y[1], -3.75f);
    EXPECT_EQ(y[15], 3.75f);
    EXPECT_EQ(y[16], -0.25f);
    EXPECT_EQ(y[20], 2.75f);
    EXPECT_EQ(y[24], -2.25f);
    EXPECT_EQ(y[25], 1.5f);
}

TEST(QuantBlocks, Q5_1) {
    // block_q5_1 = { f16 d; f16 m; u8 qh[4]; u8 qs[16] } (24 bytes); value = q * d + m, q as in q5_0.
    // d = 0.5 (0x3800), m = -4 (0xc400); qh = ff 00 0f c3; qs[j] = (3j & 15) | j << 4:
    //   y[0]:  nibble 0, bit 0 = 1 -> 16 * 0.5 - 4 = 4
    //   y[9]:  nibble 27 & 15 = 11, bit 9 (byte 1 = 0x00) = 0 -> 5.5 - 4 = 1.5
    //   y[16]: high nibble 0, bit 16 (byte 2 = 0x0f, bit 0) = 1 -> 4
    //   y[21]: high nibble 5, bit 21 (byte 2, bit 5) = 0 -> 2.5 - 4 = -1.5
    //   y[31]: high nibble 15, bit 31 (byte 3 = 0xc3, bit 7) = 1 -> 31 * 0.5 - 4 = 11.5
    Bytes b(24);
    put_u16(b, 0, 0x3800);
    put_u16(b, 2, 0xc400);
    const uint8_t qh[4] = {0xff, 0x00, 0x0f, 0xc3};
    std::memcpy(&b[4], qh, 4);
    for (int j = 0; j < 16; ++j) b[8 + j] = static_cast<uint8_t>(((3 * j) & 15) | j << 4);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
        want[j] = static_cast<float>(((3 * j) & 15) | qh_bit(qh, j) << 4) * 0.5f - 4.0f;
        want[j + 16] = static_cast<float>(j | qh_bit(qh, j + 16) << 4) * 0.5f - 4.0f;
    }
    const auto y = deq(DType::Q5_1, b);
    expect_bits_eq(y, want, "q5_1");
    EXPECT_EQ(y[0], 4.0f);
    EXPECT_EQ(y[9], 1.5f);
    EXPECT_EQ(y[16], 4.0f);
    EXPECT_EQ(y[21], -1.5f);
    EXPECT_EQ(y[31], 11.5f);
}

TEST(QuantBlocks, Q8_0) {
    // block_q8_0 = { f16 d; i8 qs[32] } (34 bytes); value = q * d with q a SIGNED byte.
    // d = 0.125 (0x3000); qs[j] = j * 8 - 128 as a byte (0x80, 0x88, ..., 0x78):
    //   y[j] = (8j - 128) / 8 = j - 16 -> y[0] = -16 (byte 0x80 read signed), y[16] = 0, y[31] = 15.
    Bytes b(34);
    put_u16(b, 0, 0x3000);
    for (int j = 0; j < 32; ++j) b[2 + j] = static_cast<uint8_t>(j * 8 - 128);
    std::vector<float> want(32);
    for (int j = 0; j < 32; ++j) want[j] = static_cast<float>(j - 16);
    const auto y = deq(DType::Q8_0, b);
    expect_bits_eq(y, want, "q8_0");
    EXPECT_EQ(y[0], -16.0f);
    EXPECT_EQ(y[31], 15.0f);
}

// ------------------------------------------------------------------------------------------------
// k-quants (256-element super-blocks).
//
// q2_k and q3_k store 2-bit fields the same way: element 128h + 32k + l (half h, k 0..3, l 0..31)
// is bits 2k..2k+1 of qs[32h + l]; its 16-element sub-block is i / 16.
int qs2(const Bytes& b, size_t qs_off, int i) {
    const int h = i / 128, k = (i % 128) / 32, l = i % 32;
    return (b[qs_off + 32 * h + l] >> (2 * k)) & 3;
}

// q2_k sub-block s: scale nibble (7s mod 15) + 1 (never 0, all but s = 0/15 distinct), min nibble s.
int q2k_scale(int s) { return (7 * s) % 15 + 1; }

Bytes q2k_block(uint16_t d, uint16_t dmin) {
    // block_q2_K = { u8 scales[16]; u8 qs[64]; f16 d; f16 dmin } (84 bytes).
    Bytes b(84);
    for (int s = 0; s < 16; ++s) b[s] = static_cast<uint8_t>(q2k_scale(s) | s << 4);
    for (int k = 0; k < 64; ++k) b[16 + k] = pattern(k, 37, 11);
    put_u16(b, 80, d);
    put_u16(b, 82, dmin);
    return b;
}

TEST(QuantBlocks, Q2_K) {
    // value = d * (scales[s] & 15) * q - dmin * (scales[s] >> 4), s = i / 16, q from qs2().
    // d = 1 (0x3c00), dmin = 0.5 (0x3800), qs[k] = (37k + 11) & 255:
    //   y[0]:   qs[0] = 11 = 0b1011, bits 0-1 = 3; s 0: scale 1, min 0   -> 3
    //   y[33]:  h 0, k 1, l 1: qs[1] = 48 = 0b110000, bits 2-3 = 0; s 2: scale 15, min 2 -> -1
    //   y[150]: h 1, k 0, l 22: qs[54] = 217 = 0b11011001, bits 0-1 = 1; s 9: scale 4, min 9 -> -0.5
    //   y[255]: h 1, k 3, l 31: qs[63] = 38 = 0b00100110, bits 6-7 = 0; s 15: scale 1, min 15 -> -7.5
    const Bytes b = q2k_block(0x3c00, 0x3800);
    std::vector<float> want(256);
    for (int i = 0; i < 256; ++i) {
        const int s = i / 16;
        want[i] = static_cast<float>(q2k_scale(s) * qs2(b, 16, i)) - 0.5f * static_cast<float>(s);
    }
    const auto y = deq(DType::Q2_K, b);
    expect_bits_eq(y, want, "q2_k");
    EXPECT_EQ(y[0], 3.0f);
    EXPECT_EQ(y[33], -1.0f);
    EXPECT_EQ(y[150], -0.5f);
    EXPECT_EQ(y[255], -7.5f);
}

// q3_k scales: 16 six-bit values stored in 12 bytes. Low 4 bits of sub-block j: low nibble of byte j
// (j < 8) or high nibble of byte j - 8 (j >= 8). High 2 bits: bits 2*(j/4) of byte 8 + j%4. The
// effective scale is the 6-bit value minus 32.
// Chosen bytes: 0..7 = 0x80, 0x91, ..., 0xf7 (low nibble k = sub-block k's low bits, high nibble k+8 =
// sub-block k+8's), and 8..11 = e4 4e 1b b1, which hold the high bits (2 bits per sub-block,
// transposing rows and columns of this table gives different values):
//   byte 8  = 0xe4 = 11 10 01 00: sub-blocks 0, 4, 8, 12 get 0, 1, 2, 3
//   byte 9  = 0x4e = 01 00 11 10: sub-blocks 1, 5, 9, 13 get 2, 3, 0, 1
//   byte 10 = 0x1b = 00 01 10 11: sub-blocks 2, 6, 10, 14 get 3, 2, 1, 0
//   byte 11 = 0xb1 = 10 11 00 01: sub-blocks 3, 7, 11, 15 get 1, 0, 3, 2
// So the 6-bit values are j + 16 * high: 0, 33, 50, 19, 20, 53, 38, 7, 40, 9, 26, 59, 60, 29, 14, 47
// and the effective scales (minus 32):
constexpr int kQ3Scale[16] = {-32, 1, 18, -13, -12, 21, 6, -25, 8, -23, -6, 27, 28, -3, -18, 15};

Bytes q3k_block(uint16_t d) {
    // block_q3_K = { u8 hmask[32]; u8 qs[64]; u8 scales[12]; f16 d } (110 bytes).
    Bytes b(110);
    for (int l = 0; l < 32; ++l) b[l] = pattern(l, 29, 7);
    for (int k = 0; k < 64; ++k) b[32 + k] = pattern(k, 53, 17);
    const uint8_t sc[12] = {0x80, 0x91, 0xa2, 0xb3, 0xc4, 0xd5, 0xe6, 0xf7, 0xe4, 0x4e, 0x1b, 0xb1};
    std::memcpy(&b[96], sc, 12);
    put_u16(b, 108, d);
    return b;
}

// q3_k level of element i: 2 low bits from qs, minus 4 unless bit i/32 of hmask[i % 32] is set.
int q3k_level(const Bytes& b, int i) {
    const int high = (b[i % 32] >> (i / 32)) & 1;
    return qs2(b, 32, i) - (high ? 0 : 4);
}

TEST(QuantBlocks, Q3_K) {
    // value = (d * scale[i / 16]) * level(i). d = 0.5 (0x3800), hmask[l] = (29l + 7) & 255,
    // qs[k] = (53k + 17) & 255:
    //   y[0]:   qs[0] = 17 = 0b10001, bits 0-1 = 1; hmask[0] = 7, bit 0 = 1 -> level 1;
    //           scale -32 -> 0.5 * -32 * 1 = -16
    //   y[37]:  h 0, k 1, l 5: qs[5] = 26 = 0b11010, bits 2-3 = 2; hmask[5] = 152 = 0b10011000,
    //           bit 1 = 0 -> level 2 - 4 = -2; sub-block 2, scale 18 -> 9 * -2 = -18
    //   y[200]: h 1, k 2, l 8: qs[40] = 89 = 0b01011001, bits 4-5 = 1; hmask[8] = 239 = 0b11101111,
    //           bit 6 = 1 -> level 1; sub-block 12, scale 28 -> 14
    //   y[254]: h 1, k 3, l 30: qs[62] = 231 = 0b11100111, bits 6-7 = 3; hmask[30] = 109 = 0b01101101,
    //           bit 7 = 0 -> level -1; sub-block 15, scale 15 -> -7.5
    const Bytes b = q3k_block(0x3800);
    std::vector<float> want(256);
    // (d * scale) * level: a negative scale times level 0 gives -0, as in ggml.
    for (int i = 0; i < 256; ++i) want[i] = (0.5f * static_cast<float>(kQ3Scale[i / 16])) * static_cast<float>(q3k_level(b, i));
    const auto y = deq(DType::Q3_K, b);
    expect_bits_eq(y, want, "q3_k");
    EXPECT_EQ(y[0], -16.0f);
    EXPECT_EQ(y[37], -18.0f);
    EXPECT_EQ(y[200], 14.0f);
    EXPECT_EQ(y[254], -7.5f);
}

// q4_k / q5_k scales and mins: 8 six-bit pairs in 12 bytes. Sub-blocks 0-3: scale = byte j & 63,
// min = byte j+4 & 63. Sub-blocks 4-7: scale = (byte j+4 & 15) | (byte j-4 >> 6) << 4,
// min = (byte j+4 >> 4) | (byte j >> 6) << 4.
// Wanted: scales 3, 17, 40, 63, 22, 45, 9, 58 and mins 5, 31, 0, 44, 50, 14, 36, 27. Encoding:
//   bytes 8..11 (low nibbles of 4..7): 22&15=6 | (50&15=2)<<4 = 0x26, 13 | 14<<4 = 0xed,
//                                      9 | 4<<4 = 0x49, 10 | 11<<4 = 0xba
//   bytes 0..3 = scale j | (scale j+4 >> 4) << 6: 3|1<<6 = 0x43, 17|2<<6 = 0x91, 40|0 = 0x28,
//                                                 63|3<<6 = 0xff
//   bytes 4..7 = min j | (min j+4 >> 4) << 6:     5|3<<6 = 0xc5, 31|0 = 0x1f, 0|2<<6 = 0x80,
//                                                 44|1<<6 = 0x6c
constexpr int kK4Scale[8] = {3, 17, 40, 63, 22, 45, 9, 58};
constexpr int kK4Min[8] = {5, 31, 0, 44, 50, 14, 36, 27};
constexpr uint8_t kK4Bytes[12] = {0x43, 0x91, 0x28, 0xff, 0xc5, 0x1f, 0x80, 0x6c, 0x26, 0xed, 0x49, 0xba};

// 4-bit field of element i in q4_k / q5_k: chunk c = i / 64 uses qs[32c .. 32c+31], the first 32
// elements of the chunk the low nibbles, the next 32 the high nibbles.
int k4_nibble(const Bytes& b, size_t qs_off, int i) {
    const int c = i / 64, r = i % 64;
    const uint8_t byte = b[qs_off + 32 * c + r % 32];
    return r < 32 ? (byte & 15) : (byte >> 4);
}

Bytes q4k_block(uint16_t d, uint16_t dmin) {
    // block_q4_K = { f16 d; f16 dmin; u8 scales[12]; u8 qs[128] } (144 bytes).
    Bytes b(144);
    put_u16(b, 0, d);
    put_u16(b, 2, dmin);
    std::memcpy(&b[4], kK4Bytes, 12);
    for (int k = 0; k < 128; ++k) b[16 + k] = pattern(k, 73, 41);
    return b;
}

TEST(QuantBlocks, Q4_K) {
    // value = (d * scale[s]) * q - dmin * min[s], s = i / 32. d = 0.5 (0x3800), dmin = 0.25 (0x3400),
    // qs[k] = (73k + 41) & 255:
    //   y[0]:   qs[0] = 0x29, low nibble 9; s 0 (3, 5)  -> 1.5 * 9 - 1.25 = 12.25
    //   y[40]:  qs[8] = 0x71, high nibble 7; s 1 (17, 31) -> 8.5 * 7 - 7.75 = 51.75
    //   y[130]: qs[66] = 0xfb, low nibble 11; s 4 (22, 50) -> 11 * 11 - 12.5 = 108.5
    //   y[255]: qs[127] = 0x60, high nibble 6; s 7 (58, 27) -> 29 * 6 - 6.75 = 167.25
    const Bytes b = q4k_block(0x3800, 0x3400);
    std::vector<float> want(256);
    for (int i = 0; i < 256; ++i) {
        const int s = i / 32;
        want[i] = 0.5f * static_cast<float>(kK4Scale[s] * k4_nibble(b, 16, i)) - 0.25f * static_cast<float>(kK4Min[s]);
    }
    const auto y = deq(DType::Q4_K, b);
    expect_bits_eq(y, want, "q4_k");
    EXPECT_EQ(y[0], 12.25f);
    EXPECT_EQ(y[40], 51.75f);
    EXPECT_EQ(y[130], 108.5f);
    EXPECT_EQ(y[255], 167.25f);
}

Bytes q5k_block(uint16_t d, uint16_t dmin) {
    // block_q5_K = { f16 d; f16 dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] } (176 bytes).
    Bytes b(176);
    put_u16(b, 0, d);
    put_u16(b, 2, dmin);
    std::memcpy(&b[4], kK4Bytes, 12);
    for (int l = 0; l < 32; ++l) b[16 + l] = pattern(l, 41, 3);
    for (int k = 0; k < 128; ++k) b[48 + k] = pattern(k, 73, 41);
    return b;
}

// 5-bit level of element i in q5_k: nibble as q4_k, plus 16 if bit 2c (first 32 of chunk c) or
// 2c + 1 (second 32) of qh[i % 32] is set.
int q5k_level(const Bytes& b, int i) {
    const int c = i / 64, second = (i % 64) / 32;
    return k4_nibble(b, 48, i) + (((b[16 + i % 32] >> (2 * c + second)) & 1) << 4);
}

TEST(QuantBlocks, Q5_K) {
    // As q4_k with the 5th bit from qh; qh[l] = (41l + 3) & 255, same scales, mins and nibbles:
    //   y[0]:   nibble 9, qh[0] = 3, bit 0 = 1 -> 25; 1.5 * 25 - 1.25 = 36.25
    //   y[40]:  nibble 7, qh[8] = 75 = 0b01001011, bit 1 = 1 -> 23; 8.5 * 23 - 7.75 = 187.75
    //   y[130]: nibble 11, qh[2] = 85 = 0b01010101, bit 4 = 1 -> 27; 11 * 27 - 12.5 = 284.5
    //   y[255]: nibble 6, qh[31] = 250 = 0b11111010, bit 7 = 1 -> 22; 29 * 22 - 6.75 = 631.25
    const Bytes b = q5k_block(0x3800, 0x3400);
    std::vector<float> want(256);
    for (int i = 0; i < 256; ++i) {
        const int s = i / 32;
        want[i] = 0.5f * static_cast<float>(kK4Scale[s] * q5k_level(b, i)) - 0.25f * static_cast<float>(kK4Min[s]);
    }
    const auto y = deq(DType::Q5_K, b);
    expect_bits_eq(y, want, "q5_k");
    EXPECT_EQ(y[0], 36.25f);
    EXPECT_EQ(y[40], 187.75f);
    EXPECT_EQ(y[130], 284.5f);
    EXPECT_EQ(y[255], 631.25f);
}

constexpr int kQ6Scale[16] = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12, 13, -14, 127, -128};

Bytes q6k_block(uint16_t d) {
    // block_q6_K = { u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d } (210 bytes).
    Bytes b(210);
    for (int k = 0; k < 128; ++k) b[k] = pattern(k, 59, 5);
    for (int k = 0; k < 64; ++k) b[128 + k] = pattern(k, 83, 13);
    for (int s = 0; s < 16; ++s) b[192 + s] = static_cast<uint8_t>(kQ6Scale[s] & 0xff);
    put_u16(b, 208, d);
    return b;
}

// 6-bit level of element i = 128h + 32k + l: low 4 bits are the low (k = 0, 1) or high (k = 2, 3)
// nibble of ql[64h + 32(k & 1) + l]; high 2 bits are bits 2k of qh[32h + l]; minus 32.
int q6k_level(const Bytes& b, int i) {
    const int h = i / 128, k = (i % 128) / 32, l = i % 32;
    const uint8_t lb = b[64 * h + 32 * (k & 1) + l];
    const int low = k < 2 ? (lb & 15) : (lb >> 4);
    const int high = (b[128 + 32 * h + l] >> (2 * k)) & 3;
    return (low | high << 4) - 32;
}

TEST(QuantBlocks, Q6_K) {
    // value = (d * scales[i / 16]) * level(i), scales signed bytes. d = 0.5 (0x3800),
    // ql[k] = (59k + 5) & 255, qh[k] = (83k + 13) & 255:
    //   y[0]:   ql[0] = 5 -> low 5; qh[0] = 13, bits 0-1 = 1 -> 21 - 32 = -11; scale 1 -> -5.5
    //   y[45]:  k 1, l 13: ql[45] = 0x64 -> low 4; qh[13] = 68 = 0b01000100, bits 2-3 = 1 -> -12;
    //           scale 3 -> 1.5 * -12 = -18
    //   y[100]: k 3, l 4: ql[36] = 0x51 -> high 5; qh[4] = 89 = 0b01011001, bits 6-7 = 1 -> -11;
    //           scale 7 -> 3.5 * -11 = -38.5
    //   y[230]: h 1, k 3, l 6: ql[102] = 0x87 -> high 8; qh[38] = 95 = 0b01011111, bits 6-7 = 1 -> -8;
    //           scale 127 -> 63.5 * -8 = -508
    //   y[250]: h 1, k 3, l 26: ql[122] = 0x23 -> high 2; qh[58] = 219 = 0b11011011, bits 6-7 = 3
    //           -> 50 - 32 = 18; scale -128 (byte 0x80) -> -64 * 18 = -1152
    const Bytes b = q6k_block(0x3800);
    std::vector<float> want(256);
    for (int i = 0; i < 256; ++i) want[i] = (0.5f * static_cast<float>(kQ6Scale[i / 16])) * static_cast<float>(q6k_level(b, i));
    const auto y = deq(DType::Q6_K, b);
    expect_bits_eq(y, want, "q6_k");
    EXPECT_EQ(y[0], -5.5f);
    EXPECT_EQ(y[45], -18.0f);
    EXPECT_EQ(y[100], -38.5f);
    EXPECT_EQ(y[230], -508.0f);
    EXPECT_EQ(y[250], -1152.0f);
}

// ------------------------------------------------------------------------------------------------
// iq4.

TEST(QuantBlocks, IQ4_NL) {
    // block_iq4_nl = { f16 d; u8 qs[16] } (18 bytes); value = d * kvalues_iq4nl[nibble], nibbles as
    // in q4_0. d = 0.5; qs[j] = j | (15 - j) << 4: y[j] = 0.5 * table[j], y[j + 16] = 0.5 * table[15 - j]
    //   y[0] = -63.5, y[8] = 0.5, y[15] = 56.5, y[16] = 56.5, y[31] = -63.5
    Bytes b(18);
    put_u16(b, 0, 0x3800);
    for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
    std::vector<float> want(32);
    for (int j = 0; j < 16; ++j) {
        want[j] = 0.5f * static_cast<float>(kIq4[j]);
        want[j + 16] = 0.5f * static_cast<float>(kIq4[15 - j]);
    }
    const auto y = deq(DType::IQ4_NL, b);
    expect_bits_eq(y, want, "iq4_nl");
    EXPECT_EQ(y[0], -63.5f);
    EXPECT_EQ(y[8], 0.5f);
    EXPECT_EQ(y[15], 56.5f);
    EXPECT_EQ(y[31], -63.5f);
}

// iq4_xs sub-block scales (6-bit, minus 32): 0, 63, 17, 40, 33, 5, 48, 26.
// scales_l[k] holds sub-blocks 2k (low nibble) and 2k+1 (high nibble):
//   low bits 0, 15, 1, 8, 1, 5, 0, 10 -> scales_l = f0 81 51 a0
// scales_h (u16 little-endian) holds bits 4-5 of sub-block ib at bits 2ib: highs 0, 3, 1, 2, 2, 0, 3, 1
//   -> 0b01'11'00'10'10'01'11'00 = 0x729c, stored 9c 72.
constexpr int kXsScale[8] = {0, 63, 17, 40, 33, 5, 48, 26};

Bytes iq4xs_block(uint16_t d) {
    // block_iq4_xs = { f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128] } (136 bytes).
    Bytes b(136);
    put_u16(b, 0, d);
    b[2] = 0x9c;
    b[3] = 0x72;
    const uint8_t sl[4] = {0xf0, 0x81, 0x51, 0xa0};
    std::memcpy(&b[4], sl, 4);
    for (int k = 0; k < 128; ++k) b[8 + k] = pattern(k, 97, 29);
    return b;
}

// Table index of element i: sub-block ib = i / 32 uses qs[16ib .. 16ib+15], low nibbles first.
int iq4xs_index(const Bytes& b, int i) {
    const int ib = i / 32, r = i % 32;
    const uint8_t byte = b[8 + 16 * ib + r % 16];
    return r < 16 ? (byte & 15) : (byte >> 4);
}

TEST(QuantBlocks, IQ4_XS) {
    // value = (d * (scale6[ib] - 32)) * table[index]. d = 0.25 (0x3400), qs[k] = (97k + 29) & 255:
    //   y[0]:   qs[0] = 0x1d, low 13 -> 69; scale 0 - 32 -> 0.25 * -32 * 69 = -552
    //   y[50]:  ib 1, r 18: qs[18] = 0xef, high 14 -> 89; scale 63 - 32 = 31 -> 7.75 * 89 = 689.75
    //   y[140]: ib 4, r 12: qs[76] = 0xe9, low 9 -> 13; scale 33 - 32 = 1 -> 0.25 * 13 = 3.25
    //   y[255]: ib 7, r 31: qs[127] = 0x3c, high 3 -> -65; scale 26 - 32 = -6 -> -1.5 * -65 = 97.5
    const Bytes b = iq4xs_block(0x3400);
    std::vector<float> want(256);
    for (int i = 0; i < 256; ++i)
        want[i] = 0.25f * static_cast<float>((kXsScale[i / 32] - 32) * kIq4[iq4xs_index(b, i)]);
    const auto y = deq(DType::IQ4_XS, b);
    expect_bits_eq(y, want, "iq4_xs");
    EXPECT_EQ(y[0], -552.0f);
    EXPECT_EQ(y[50], 689.75f);
    EXPECT_EQ(y[140], 3.25f);
    EXPECT_EQ(y[255], 97.5f);
}

// ------------------------------------------------------------------------------------------------
// Float operation order. With d = 1/3-ish (f16 0x3555 = 0.333251953125) and dmin = 0x2e66
// (0.0999755859375) products round, so these pin the exact expressions ggml evaluates:
//   q8_0, q4_0, q5_0:    float(q) * d
//   q4_1, q5_1:          float(q) * d + m
//   q2_k, q4_k, q5_k:    (d * float(scale)) * float(q) - dmin * float(min)
//   q3_k, q6_k:          (d * float(scale)) * float(q)
//   iq4_nl:              d * float(table[q]);  iq4_xs: (d * float(scale - 32)) * float(table[q])

TEST(QuantBlocks, OperationOrderMatchesGgml) {
    const uint16_t dh = 0x3555, mh = 0x2e66;
    const float d = f16_to_f32(dh), dmin = f16_to_f32(mh);
    ASSERT_EQ(d, 0.333251953125f);
    auto fl = [](int v) { return static_cast<float>(v); };
    {
        const Bytes b = q2k_block(dh, mh);
        std::vector<float> want(256);
        for (int i = 0; i < 256; ++i) {
            const int s = i / 16;
            want[i] = (d * fl(q2k_scale(s))) * fl(qs2(b, 16, i)) - dmin * fl(s);
        }
        expect_bits_eq(deq(DType::Q2_K, b), want, "q2_k order");
    }
    {
        const Bytes b = q3k_block(dh);
        std::vector<float> want(256);
        for (int i = 0; i < 256; ++i) want[i] = (d * fl(kQ3Scale[i / 16])) * fl(q3k_level(b, i));
        expect_bits_eq(deq(DType::Q3_K, b), want, "q3_k order");
    }
    {
        const Bytes b = q4k_block(dh, mh);
        std::vector<float> want(256);
        for (int i = 0; i < 256; ++i)
            want[i] = (d * fl(kK4Scale[i / 32])) * fl(k4_nibble(b, 16, i)) - dmin * fl(kK4Min[i / 32]);
        expect_bits_eq(deq(DType::Q4_K, b), want, "q4_k order");
    }
    {
        const Bytes b = q5k_block(dh, mh);
        std::vector<float> want(256);
        for (int i = 0; i < 256; ++i)
            want[i] = (d * fl(kK4Scale[i / 32])) * fl(q5k_level(b, i)) - dmin * fl(kK4Min[i / 32]);
        expect_bits_eq(deq(DType::Q5_K, b), want, "q5_k order");
    }
    {
        const Bytes b = q6k_block(dh);
        std::vector<float> want(256);
        for (int i = 0; i < 256; ++i) want[i] = (d * fl(kQ6Scale[i / 16])) * fl(q6k_level(b, i));
        expect_bits_eq(deq(DType::Q6_K, b), want, "q6_k order");
    }
    {
        const Bytes b = iq4xs_block(dh);
        std::vector<float> want(256);
        for (int i = 0; i < 256; ++i) want[i] = (d * fl(kXsScale[i / 32] - 32)) * fl(kIq4[iq4xs_index(b, i)]);
        expect_bits_eq(deq(DType::IQ4_XS, b), want, "iq4_xs order");
    }
    {
        Bytes b(20);
        put_u16(b, 0, dh);
        put_u16(b, 2, mh);
        for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<uint8_t>(j | (15 - j) << 4);
        std::vector<float> want(32);
        for (int j = 0; j < 16; ++j) {
            want[j] = fl(j) * d + dmin;
            want[j + 16] = fl(15 - j) * d + dmin;
        }
        expect_bits_eq(deq(DType::Q4_1, b), want, "q4_1 order");
    }
    {
        Bytes b(24);
        put_u16(b, 0, dh);
        put_u16(b, 2, mh);
        const uint8_t qh[4] = {0x5a, 0xc3, 0x0f, 0xf0};
        std::memcpy(&b[4], qh, 4);
        for (int j = 0; j < 16; ++j) b[8 + j] = pattern(j, 23, 9);
        std::vector<float> want(32);
        for (int j = 0; j < 16; ++j) {
            want[j] = fl((b[8 + j] & 15) | qh_bit(qh, j) << 4) * d + dmin;
            want[j + 16] = fl((b[8 + j] >> 4) | qh_bit(qh, j + 16) << 4) * d + dmin;
        }
        expect_bits_eq(deq(DType::Q5_1, b), want, "q5_1 order");
    }
    {
        Bytes b(34);
        put_u16(b, 0, dh);
        for (int j = 0; j < 32; ++j) b[2 + j] = pattern(j, 45, 77);
        std::vector<float> want(32);
        for (int j = 0; j < 32; ++j) want[j] = fl(static_cast<int8_t>(b[2 + j])) * d;
        expect_bits_eq(deq(DType::Q8_0, b), want, "q8_0 order");
    }
}

// ------------------------------------------------------------------------------------------------
// Several blocks in one row are decoded independently and in order.

TEST(QuantBlocks, MultipleBlocksInARow) {
    Bytes two = q4k_block(0x3800, 0x3400);
    const Bytes second = q4k_block(0xb800, 0x3c00);  // d = -0.5, dmin = 1
    two.insert(two.end(), second.begin(), second.end());
    const auto y = deq(DType::Q4_K, two);
    const auto y0 = deq(DType::Q4_K, q4k_block(0x3800, 0x3400));
    const auto y1 = deq(DType::Q4_K, second);
    ASSERT_EQ(y.size(), 512u);
    for (int i = 0; i < 256; ++i) {
        EXPECT_EQ(y[i], y0[i]) << i;
        EXPECT_EQ(y[256 + i], y1[i]) << i;
    }
}

// ------------------------------------------------------------------------------------------------
// Errors.

TEST(QuantBlocks, TypesWithoutDequantizationThrowNamingTheType) {
    const Bytes junk(4096, 0);
    std::vector<float> out(256);
    for (DType t : {DType::Q8_1, DType::Q8_K, DType::IQ2_XXS, DType::IQ2_XS, DType::IQ3_XXS, DType::IQ1_S,
                    DType::IQ3_S, DType::IQ2_S, DType::IQ1_M, DType::TQ1_0, DType::TQ2_0, DType::MXFP4, DType::I8,
                    DType::I32, DType::U8, DType::BOOL}) {
        ASSERT_FALSE(dtype_info(t).dequantizable) << dtype_name(t);
        const uint64_t n = dtype_info(t).block_elems;
        try {
            dequantize_row(t, junk.data(), out.data(), n);
            ADD_FAILURE() << "no exception for " << dtype_name(t);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(dtype_name(t)), std::string::npos) << e.what();
        }
    }
}

TEST(QuantBlocks, PartialBlockIsRejected) {
    const Bytes b(144, 0);
    std::vector<float> out(256);
    EXPECT_THROW(dequantize_row(DType::Q4_K, b.data(), out.data(), 100), FormatError);
    EXPECT_THROW(dequantize_row(DType::Q8_0, b.data(), out.data(), 33), FormatError);
}

TEST(QuantBlocks, ZeroElementsIsANoOp) {
    EXPECT_NO_THROW(dequantize_row(DType::Q4_K, nullptr, nullptr, 0));
    EXPECT_NO_THROW(dequantize_row(DType::F16, nullptr, nullptr, 0));
}

TEST(QuantBlocks, EveryDequantizableTypeIsHandled) {
    // A zero block decodes to zeros for every type the table marks dequantizable (no type is marked
    // without a codec behind it).
    for (int i = 0; i < static_cast<int>(DType::COUNT); ++i) {
        const DType t = static_cast<DType>(i);
        const auto& info = dtype_info(t);
        if (!info.dequantizable) continue;
        const Bytes zeros(info.block_bytes, 0);
        std::vector<float> out(info.block_elems, 1.0f);
        ASSERT_NO_THROW(dequantize_row(t, zeros.data(), out.data(), info.block_elems)) << info.name;
        for (float v : out) EXPECT_EQ(v, 0.0f) << info.name;
    }
}

}  // namespace
}  // namespace gd
