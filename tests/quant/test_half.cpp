// f16 / bf16 conversions of common/half.h, checked against values computed from the IEEE formulas
// (in double, independently of the bit tricks in half.h): exact decoding of every bit pattern,
// round trips, round-to-nearest-even ties (normal and subnormal), overflow to infinity, NaN.
#include <gtest/gtest.h>

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <random>

#include "common/half.h"

namespace gd {
namespace {

uint32_t bits(float f) { return std::bit_cast<uint32_t>(f); }
float from_bits(uint32_t u) { return std::bit_cast<float>(u); }

bool f16_is_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0; }
bool bf16_is_nan(uint16_t h) { return (h & 0x7f80u) == 0x7f80u && (h & 0x007fu) != 0; }

// The value of an f16 bit pattern from the IEEE binary16 definition: sign, 5-bit exponent (bias 15),
// 10-bit fraction; exponent 0 is subnormal (fraction * 2^-24). Not for exponent 31.
double f16_value(uint16_t h) {
    const int sign = h >> 15, exp = (h >> 10) & 31, frac = h & 1023;
    const double mag = exp == 0 ? std::ldexp(frac, -24) : std::ldexp(1024 + frac, exp - 25);
    return sign ? -mag : mag;
}

// Same for bfloat16: 8-bit exponent (bias 127), 7-bit fraction; subnormal fraction * 2^-133.
double bf16_value(uint16_t h) {
    const int sign = h >> 15, exp = (h >> 7) & 255, frac = h & 127;
    const double mag = exp == 0 ? std::ldexp(frac, -133) : std::ldexp(128 + frac, exp - 134);
    return sign ? -mag : mag;
}

TEST(Half, F16ToF32DecodesEveryPatternExactly) {
    for (uint32_t u = 0; u < 65536; ++u) {
        const auto h = static_cast<uint16_t>(u);
        const float f = f16_to_f32(h);
        const int exp = (h >> 10) & 31;
        if (exp == 31) {
            if ((h & 1023) == 0) {
                EXPECT_TRUE(std::isinf(f)) << std::hex << u;
            } else {
                EXPECT_TRUE(std::isnan(f)) << std::hex << u;
            }
            EXPECT_EQ(std::signbit(f), (h >> 15) != 0) << std::hex << u;
            continue;
        }
        const double want = f16_value(h);
        EXPECT_EQ(static_cast<double>(f), want) << std::hex << u;
        EXPECT_EQ(std::signbit(f), (h >> 15) != 0) << std::hex << u;  // -0 stays -0
    }
}

TEST(Half, F16RoundTripIsIdentityForEveryNonNaNPattern) {
    for (uint32_t u = 0; u < 65536; ++u) {
        const auto h = static_cast<uint16_t>(u);
        const uint16_t back = f32_to_f16(f16_to_f32(h));
        if (f16_is_nan(h)) {
            // NaN stays NaN (payload not kept), with its sign.
            EXPECT_TRUE(f16_is_nan(back)) << std::hex << u << " -> " << back;
            EXPECT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << u;
        } else {
            EXPECT_EQ(back, h) << std::hex << u;
        }
    }
}

TEST(Half, F32ToF16TiesGoToEven) {
    // For every pair of adjacent finite f16 values (both signs, subnormals included), the midpoint (exact
    // in f32: f16 has 11 significant bits) rounds to the one with an even fraction; one f32 ulp either
    // side rounds to the nearer one.
    for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
        for (uint32_t u = 0; u < 0x7bff; ++u) {
            const auto lo = static_cast<uint16_t>(u | sign), hi = static_cast<uint16_t>((u + 1) | sign);
            const double mid = (f16_value(lo) + f16_value(hi)) / 2;
            const float m = static_cast<float>(mid);
            ASSERT_EQ(static_cast<double>(m), mid);
            const uint16_t even = (u & 1) ? hi : lo;
            EXPECT_EQ(f32_to_f16(m), even) << std::hex << lo << " / " << hi;
            EXPECT_EQ(f32_to_f16(std::nextafter(m, sign ? -INFINITY : INFINITY)), hi) << std::hex << lo;
            EXPECT_EQ(f32_to_f16(std::nextafter(m, 0.0f)), lo) << std::hex << lo;
        }
    }
}

TEST(Half, F32ToF16SpecialValues) {
    // Ties around 1: 1 + 2^-11 is halfway between 1 (0x3c00, even) and 1 + 2^-10 (0x3c01).
    EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
    // 1 + 3 * 2^-11 is halfway between 0x3c01 (odd) and 0x3c02 (even).
    EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
    // Subnormals: 2^-24 is the smallest; 2^-25 is halfway between 0 and it -> 0 (even);
    // 3 * 2^-25 is halfway between 0x0001 and 0x0002 -> 0x0002; anything above 2^-25 -> 0x0001.
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);
    EXPECT_EQ(f32_to_f16(3 * std::ldexp(1.0f, -25)), 0x0002);
    EXPECT_EQ(f32_to_f16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -26)), 0x0000);
    EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -26)), 0x8000);  // underflow keeps the sign
    EXPECT_EQ(f32_to_f16(FLT_MIN), 0x0000);
    EXPECT_EQ(f32_to_f16(from_bits(1)), 0x0000);  // smallest f32 subnormal
    // Largest subnormal to smallest normal: 1023.5 * 2^-24 ties between 0x03ff (odd) and 0x0400.
    EXPECT_EQ(f32_to_f16(1023.5f * std::ldexp(1.0f, -24)), 0x0400);
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);
    // Overflow: 65504 is the largest f16; 65520 is halfway to 65536 and ties to infinity (0x7bff odd).
    EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ(f32_to_f16(std::nextafter(65520.0f, 0.0f)), 0x7bff);
    EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);
    EXPECT_EQ(f32_to_f16(-65520.0f), 0xfc00);
    EXPECT_EQ(f32_to_f16(1e10f), 0x7c00);
    EXPECT_EQ(f32_to_f16(-1e10f), 0xfc00);
    EXPECT_EQ(f32_to_f16(FLT_MAX), 0x7c00);
    EXPECT_EQ(f32_to_f16(INFINITY), 0x7c00);
    EXPECT_EQ(f32_to_f16(-INFINITY), 0xfc00);
    // Signed zero, exact values.
    EXPECT_EQ(f32_to_f16(0.0f), 0x0000);
    EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
    EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
    EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
    EXPECT_EQ(f32_to_f16(0.5f), 0x3800);
    // NaN, including one whose payload sits only in the low f32 bits that f16 drops.
    EXPECT_TRUE(f16_is_nan(f32_to_f16(NAN)));
    EXPECT_TRUE(f16_is_nan(f32_to_f16(from_bits(0x7f800001u))));
    EXPECT_EQ(f32_to_f16(from_bits(0xff800001u)) & 0x8000u, 0x8000u);
    EXPECT_TRUE(f16_is_nan(f32_to_f16(from_bits(0xff800001u))));
}

// Nearest f16 to x by search over the f16 values (ties to even, overflow at >= 65520), as the spec
// describes it, for comparison with the bit-twiddling conversion.
uint16_t f16_reference(float x) {
    const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
    if (std::isnan(x)) return static_cast<uint16_t>(sign | 0x7e00);
    const double a = std::fabs(static_cast<double>(x));
    if (a >= 65520.0) return static_cast<uint16_t>(sign | 0x7c00);
    uint32_t lo = 0, hi = 0x7bff;  // largest h with value(h) <= a
    while (lo < hi) {
        const uint32_t mid = (lo + hi + 1) / 2;
        if (f16_value(static_cast<uint16_t>(mid)) <= a) lo = mid;
        else hi = mid - 1;
    }
    uint32_t h = lo;
    if (h < 0x7bff) {
        const double below = a - f16_value(static_cast<uint16_t>(h));
        const double above = f16_value(static_cast<uint16_t>(h + 1)) - a;
        if (above < below || (above == below && (h & 1))) ++h;
    }
    return static_cast<uint16_t>(sign | h);
}

TEST(Half, F32ToF16MatchesReferenceOnRandomPatterns) {
    std::mt19937 rng(777);
    for (int i = 0; i < 300000; ++i) {
        // Random f32 bits, and random values concentrated in the f16 range (exponents 100..145).
        const uint32_t raw = rng();
        const float a = from_bits(raw);
        const float b = from_bits((raw & 0x807fffffu) | ((100u + raw % 46u) << 23));
        for (float x : {a, b}) {
            const uint16_t got = f32_to_f16(x), want = f16_reference(x);
            if (std::isnan(x)) {
                EXPECT_TRUE(f16_is_nan(got)) << std::hex << bits(x);
            } else {
                ASSERT_EQ(got, want) << std::hex << "x bits " << bits(x) << " value " << x;
            }
        }
    }
}

TEST(Half, Bf16DecodesEveryPatternExactlyAndRoundTrips) {
    for (uint32_t u = 0; u < 65536; ++u) {
        const auto h = static_cast<uint16_t>(u);
        const float f = bf16_to_f32(h);
        const int exp = (h >> 7) & 255;
        if (exp == 255) {
            EXPECT_EQ(std::isnan(f), (h & 127) != 0) << std::hex << u;
            EXPECT_EQ(std::isinf(f), (h & 127) == 0) << std::hex << u;
        } else {
            EXPECT_EQ(static_cast<double>(f), bf16_value(h)) << std::hex << u;
        }
        const uint16_t back = f32_to_bf16(f);
        if (bf16_is_nan(h)) {
            EXPECT_TRUE(bf16_is_nan(back)) << std::hex << u;
            EXPECT_EQ(back & 0x8000u, h & 0x8000u) << std::hex << u;
        } else {
            EXPECT_EQ(back, h) << std::hex << u;
        }
    }
}

TEST(Half, Bf16TiesGoToEvenAndOverflowToInfinity) {
    // Every adjacent pair of finite bf16 values: the midpoint (exact in f32) rounds to the even one.
    for (uint16_t sign : {uint16_t{0}, uint16_t{0x8000}}) {
        for (uint32_t u = 0; u < 0x7f7f; ++u) {
            const auto lo = static_cast<uint16_t>(u | sign), hi = static_cast<uint16_t>((u + 1) | sign);
            const double mid = (bf16_value(lo) + bf16_value(hi)) / 2;
            const float m = static_cast<float>(mid);
            ASSERT_EQ(static_cast<double>(m), mid);
            EXPECT_EQ(f32_to_bf16(m), (u & 1) ? hi : lo) << std::hex << lo;
            EXPECT_EQ(f32_to_bf16(std::nextafter(m, sign ? -INFINITY : INFINITY)), hi) << std::hex << lo;
            EXPECT_EQ(f32_to_bf16(std::nextafter(m, 0.0f)), lo) << std::hex << lo;
        }
    }
    // 1 + 2^-8 ties between 0x3f80 (even) and 0x3f81; 1 + 3 * 2^-8 between 0x3f81 and 0x3f82 (even).
    EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);
    EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
    // The largest bf16 is 0x7f7f = (2 - 2^-7) 2^127; halfway to 2^128 is f32 0x7f7f8000, which ties to
    // infinity (0x7f7f is odd); FLT_MAX is above it.
    EXPECT_EQ(f32_to_bf16(from_bits(0x7f7f7fffu)), 0x7f7f);
    EXPECT_EQ(f32_to_bf16(from_bits(0x7f7f8000u)), 0x7f80);
    EXPECT_EQ(f32_to_bf16(FLT_MAX), 0x7f80);
    EXPECT_EQ(f32_to_bf16(-FLT_MAX), 0xff80);
    EXPECT_EQ(f32_to_bf16(INFINITY), 0x7f80);
    // Subnormals: f32 0x00008000 is halfway between bf16 0 and 0x0001 -> 0; 0x00018000 between 0x0001
    // and 0x0002 -> 0x0002.
    EXPECT_EQ(f32_to_bf16(from_bits(0x00008000u)), 0x0000);
    EXPECT_EQ(f32_to_bf16(from_bits(0x00008001u)), 0x0001);
    EXPECT_EQ(f32_to_bf16(from_bits(0x00018000u)), 0x0002);
    EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
    // NaN whose payload is only in the low 16 bits must not turn into infinity.
    EXPECT_TRUE(bf16_is_nan(f32_to_bf16(from_bits(0x7f800001u))));
    EXPECT_TRUE(bf16_is_nan(f32_to_bf16(from_bits(0xff800001u))));
    EXPECT_EQ(f32_to_bf16(from_bits(0xff800001u)) & 0x8000u, 0x8000u);
    EXPECT_TRUE(bf16_is_nan(f32_to_bf16(NAN)));
}

}  // namespace
}  // namespace gd
