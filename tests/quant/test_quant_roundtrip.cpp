// Reference quantization: quantize -> dequantize round trips on random and special data, with error
// bounds derived from each format, plus determinism, sizes and error handling.
//
// Random data uses std::mt19937 with a fixed seed and, in the same run, a fresh seed from
// std::random_device that is printed (and recorded as a test property) so a failure can be replayed
// by putting that seed into kReplaySeed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/half.h"
#include "format/dtype.h"
#include "format/quant/quant.h"

namespace gd {
namespace {

constexpr uint32_t kFixedSeed = 20240611u;
constexpr uint32_t kReplaySeed = 0;  // set to a printed seed to replay a failing fresh-seed run

uint32_t fresh_seed() {
    static const uint32_t seed = [] {
        const uint32_t s = kReplaySeed ? kReplaySeed : std::random_device{}();
        std::cout << "[ quant  ] fresh random seed: " << s << " (fixed seed " << kFixedSeed << ")\n";
        return s;
    }();
    return seed;
}

std::vector<uint32_t> seeds() {
    const uint32_t s = fresh_seed();
    ::testing::Test::RecordProperty("fresh_seed", std::to_string(s));
    return {kFixedSeed, s};
}

const std::vector<DType>& quantizable_types() {
    static const std::vector<DType> types = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0,   DType::Q4_0,
                                             DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K,   DType::Q3_K,
                                             DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS};
    return types;
}

bool is_block_type(DType t) { return dtype_info(t).block_elems > 1; }

std::vector<float> round_trip(DType t, const std::vector<float>& x) {
    std::vector<uint8_t> q(dtype_bytes(t, x.size()));
    quantize_row(t, x.data(), q.data(), x.size());
    std::vector<float> y(x.size());
    dequantize_row(t, q.data(), y.data(), y.size());
    return y;
}

// ------------------------------------------------------------------------------------------------
// Error bounds.
//
// Largest |error| allowed in one block (`x` is one block of the type), from the format:
//  f32: exact. f16: half an ulp, |x| 2^-11 (normal) or 2^-25 (subnormal). bf16: |x| 2^-8.
//  q8_0: the encoder rounds the scale d = amax/127 UP to f16 (so no value is clipped): error <= d/2,
//        with d <= amax/127 (1 + 2^-10) + 2^-24 (f16 ulp / smallest subnormal).
//  q4_0 / q5_0: d = amax/8 (/16) rounded up, signed so that the largest-magnitude value sits on the
//        extra negative level -8 (-16); values of the other sign reach at most +8 (+16) steps against a
//        last level of +7 (+15): error <= one step d.
//  q4_1 / q5_1: the offset is the minimum rounded DOWN to f16 (moves it by <= |min| 2^-11 + 2^-25)
//        and the step the range over 15 (31) rounded UP, so every value is inside the grid: error <=
//        half a step.
//  k-quants and iq4: the scales come from a least-squares search, which may clip the extreme value
//        by up to about half a step, and are then quantized against the super-block scale. The bound
//        is one step of the coarsest grid the block can use (half a step of rounding + half a step of
//        clipping), plus the scale quantization error carried over the whole level range:
//        q2_k:  2-bit affine, range <= 2 amax: step 2amax/3; 4-bit scales/mins: + 3 (2amax/3)/30
//               + amax/30                                                        -> 0.67 + 0.10
//        q3_k:  3-bit signed, levels -4..3, largest value at -4: step amax/4; 6-bit signed scales
//               (d = largest scale/32): + 4 * (amax/4)/64                        -> 0.25 + 0.016
//        q4_k:  4-bit affine: step 2amax/15; 6-bit scales and mins (/63): + 15 (2amax/15)/126 + amax/126
//                                                                                -> 0.133 + 0.024
//        q5_k:  5-bit affine: step 2amax/31; + 31 (2amax/31)/126 + amax/126      -> 0.065 + 0.024
//        q6_k:  6-bit signed, levels -32..31: step amax/32; 8-bit scales (d = largest/128):
//               + 32 (amax/32)/256                                               -> 0.031 + 0.004
//        iq4_nl: levels -127..113 (x amax/127), widest gap 24: step 24 amax/127, and a value of the
//               other sign than the largest one may reach 127 against the last level 113
//               (14 amax/127, inside one step)                                  -> 0.189
//        iq4_xs: as iq4_nl plus 6-bit sub-block scales (d = largest/32): + 127 (amax/127)/64
//                                                                                -> 0.189 + 0.016
//        each times 1.01 for the f16 rounding of the super-block scales.
double max_error_bound(DType t, const float* x, int n) {
    double amax = 0.0, lo = x[0], hi = x[0];
    for (int i = 0; i < n; ++i) {
        amax = std::max(amax, std::fabs(static_cast<double>(x[i])));
        lo = std::min(lo, static_cast<double>(x[i]));
        hi = std::max(hi, static_cast<double>(x[i]));
    }
    const double f16_ulp = std::ldexp(1.0, -10), f16_sub = std::ldexp(1.0, -24);
    const double slop = amax * std::ldexp(1.0, -20);  // float arithmetic in encoder and decoder
    auto affine = [&](double levels) {
        const double range = (hi - lo) + std::fabs(lo) * f16_ulp + f16_sub;
        return 0.5 * (range / levels * (1.0 + f16_ulp) + f16_sub) + slop;
    };
    switch (t) {
        case DType::Q8_0: return 0.5 * (amax / 127.0 * (1.0 + f16_ulp) + f16_sub) + slop;
        case DType::Q4_0: return amax / 8.0 * (1.0 + f16_ulp) + f16_sub + slop;
        case DType::Q5_0: return amax / 16.0 * (1.0 + f16_ulp) + f16_sub + slop;
        case DType::Q4_1: return affine(15.0);
        case DType::Q5_1: return affine(31.0);
        case DType::Q2_K: return 1.01 * (2.0 / 3.0 + 0.10) * amax + slop;
        case DType::Q3_K: return 1.01 * (0.25 + 0.016) * amax + slop;
        case DType::Q4_K: return 1.01 * (2.0 / 15.0 + 0.024) * amax + slop;
        case DType::Q5_K: return 1.01 * (2.0 / 31.0 + 0.024) * amax + slop;
        case DType::Q6_K: return 1.01 * (1.0 / 32.0 + 0.004) * amax + slop;
        case DType::IQ4_NL: return 1.01 * (24.0 / 127.0) * amax + slop;
        case DType::IQ4_XS: return 1.01 * (24.0 / 127.0 + 0.016) * amax + slop;
        default: return 0.0;
    }
}

// Per-element bound for the plain float types.
double element_bound(DType t, float v) {
    const double a = std::fabs(static_cast<double>(v));
    switch (t) {
        case DType::F32: return 0.0;
        case DType::F16: return std::max(a * std::ldexp(1.0, -11), std::ldexp(1.0, -25));
        case DType::BF16: return std::max(a * std::ldexp(1.0, -8), std::ldexp(1.0, -134));
        default: return 0.0;
    }
}

// Checks every block (or element) of a round trip against the bounds above; returns the largest
// error seen relative to its bound (for the report of how tight the bounds are).
double check_max_error(DType t, const std::vector<float>& x, const std::vector<float>& y, const std::string& what) {
    const int be = static_cast<int>(dtype_info(t).block_elems);
    double worst = 0.0;
    if (!is_block_type(t)) {
        for (size_t i = 0; i < x.size(); ++i) {
            const double err = std::fabs(static_cast<double>(y[i]) - x[i]);
            const double bound = element_bound(t, x[i]);
            EXPECT_LE(err, bound) << what << " " << dtype_name(t) << " element " << i << " x=" << x[i] << " y=" << y[i];
            if (bound > 0) worst = std::max(worst, err / bound);
        }
        return worst;
    }
    for (size_t b = 0; b < x.size() / be; ++b) {
        const float* xb = x.data() + b * be;
        const double bound = max_error_bound(t, xb, be);
        double err = 0.0;
        size_t at = 0;
        for (int i = 0; i < be; ++i) {
            const double e = std::fabs(static_cast<double>(y[b * be + i]) - xb[i]);
            if (!(e <= err)) {  // also catches NaN
                err = e;
                at = b * be + i;
            }
        }
        EXPECT_LE(err, bound) << what << " " << dtype_name(t) << " block " << b << " worst element " << at
                              << " x=" << x[at] << " y=" << y[at];
        if (bound > 0) worst = std::max(worst, err / bound);
    }
    return worst;
}

// RMS error relative to the RMS of the data, for N(0, sigma^2) data; bounds with their reasoning.
// Uniform rounding noise with step D has RMS D/sqrt(12). For n Gaussian values the expected largest
// magnitude is about 2.1 (n = 32) or 1.8 (n = 16) sigma and the range about 4.1 (32) or 3.5 (16):
//   q8_0   D = amax/127 = 0.0165        -> 0.0048; bound 0.0065 (scale rounded up, f16)
//   q4_0   D = amax/8 = 0.26            -> 0.076;  bound 0.095 (plus clipping of the far side)
//   q5_0   D = amax/16 = 0.13           -> 0.038;  bound 0.048
//   q4_1   D = range/15 = 0.27          -> 0.079;  bound 0.088
//   q5_1   D = range/31 = 0.13          -> 0.038;  bound 0.043
//   q2_k   D = range16/3 = 1.17         -> 0.34;   the fit clips the tails to shrink D: bound 0.32
//   q3_k   D = amax16/4 = 0.45          -> 0.13;   x^2-weighted fit favours large values and the
//                                                  scales are 6-bit: bound 0.17
//   q4_k   D = range/15 = 0.27          -> 0.079;  least-squares fit is a little better: bound 0.080
//   q5_k   D = range/31 = 0.13          -> 0.038;  bound 0.041
//   q6_k   D = amax16/32 = 0.056        -> 0.016;  bound 0.020
//   iq4_nl 16 non-uniform levels over about the same span as 4-bit: ~0.075; bound 0.085
//   iq4_xs as iq4_nl with 6-bit sub-block scales: bound 0.085
//   f16    relative half-ulp 2^-11 uniformly spread: 2^-11/sqrt(3) = 2.8e-4; bound 3.5e-4
//   bf16   2^-8/sqrt(3) = 2.3e-3; bound 2.8e-3
double rms_bound(DType t) {
    switch (t) {
        case DType::F32: return 0.0;
        case DType::F16: return 3.5e-4;
        case DType::BF16: return 2.8e-3;
        case DType::Q8_0: return 0.0065;
        case DType::Q4_0: return 0.095;
        case DType::Q5_0: return 0.048;
        case DType::Q4_1: return 0.088;
        case DType::Q5_1: return 0.043;
        case DType::Q2_K: return 0.32;
        case DType::Q3_K: return 0.17;
        case DType::Q4_K: return 0.080;
        case DType::Q5_K: return 0.041;
        case DType::Q6_K: return 0.020;
        case DType::IQ4_NL: return 0.085;
        case DType::IQ4_XS: return 0.085;
        default: return 0.0;
    }
}

double relative_rms(const std::vector<float>& x, const std::vector<float>& y) {
    double se = 0.0, sx = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double e = static_cast<double>(y[i]) - x[i];
        se += e * e;
        sx += static_cast<double>(x[i]) * x[i];
    }
    return sx > 0 ? std::sqrt(se / sx) : std::sqrt(se);
}

std::vector<float> gaussian(uint32_t seed, size_t n, float sigma, float mean = 0.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(mean, sigma);
    std::vector<float> x(n);
    for (auto& v : x) v = dist(rng);
    return x;
}

// ------------------------------------------------------------------------------------------------

TEST(QuantRoundTrip, CanQuantizeExactlyTheReferenceTypes) {
    for (int i = 0; i < static_cast<int>(DType::COUNT); ++i) {
        const DType t = static_cast<DType>(i);
        const bool expected = std::find(quantizable_types().begin(), quantizable_types().end(), t) !=
                              quantizable_types().end();
        EXPECT_EQ(can_quantize(t), expected) << dtype_name(t);
        if (can_quantize(t)) {
            EXPECT_TRUE(dtype_info(t).dequantizable) << dtype_name(t);
        }
    }
}

TEST(QuantRoundTrip, GaussianDataWithinBounds) {
    // 16 super-blocks per run (4096 values); three scales: unit, typical weights (0.02) and large (300).
    for (uint32_t seed : seeds()) {
        for (float sigma : {1.0f, 0.02f, 300.0f}) {
            const auto x = gaussian(seed + static_cast<uint32_t>(sigma * 100), 4096 * 4, sigma);
            for (DType t : quantizable_types()) {
                const std::string what = "seed " + std::to_string(seed) + " sigma " + std::to_string(sigma);
                SCOPED_TRACE(what + " " + dtype_name(t));
                const auto y = round_trip(t, x);
                const double worst = check_max_error(t, x, y, what);
                const double rms = relative_rms(x, y);
                EXPECT_LE(rms, rms_bound(t)) << dtype_name(t);
                if (t == DType::F32) {
                    EXPECT_EQ(rms, 0.0);
                }
                if (seed == kFixedSeed && sigma == 1.0f)
                    std::cout << "[ quant  ] " << dtype_name(t) << ": relative RMS error " << rms << " (bound "
                              << rms_bound(t) << "), largest block error " << worst << " of its bound\n";
            }
        }
    }
}

TEST(QuantRoundTrip, OtherDistributionsWithinMaxErrorBounds) {
    // Uniform, heavy-tailed (Student t, 3 degrees of freedom), sparse, and blocks whose sub-blocks
    // differ in scale by up to 1000x (the hard case for the k-quants' shared super-block scale).
    for (uint32_t seed : seeds()) {
        std::mt19937 rng(seed);
        const size_t n = 256 * 32;
        std::vector<std::vector<float>> sets;
        {
            std::uniform_real_distribution<float> u(-1.0f, 1.0f);
            std::vector<float> x(n);
            for (auto& v : x) v = u(rng);
            sets.push_back(x);
        }
        {
            std::student_t_distribution<float> st(3.0f);
            std::vector<float> x(n);
            for (auto& v : x) v = st(rng);
            sets.push_back(x);
        }
        {
            std::normal_distribution<float> g(0.0f, 1.0f);
            std::uniform_int_distribution<int> pick(0, 9);
            std::vector<float> x(n);
            for (auto& v : x) v = pick(rng) == 0 ? g(rng) : 0.0f;
            sets.push_back(x);
        }
        {
            std::normal_distribution<float> g(0.0f, 1.0f);
            std::uniform_real_distribution<float> e(-3.0f, 0.0f);
            std::vector<float> x(n);
            for (size_t s = 0; s < n / 16; ++s) {
                const float scale = std::pow(10.0f, e(rng));
                const float offset = g(rng) * scale;
                for (size_t i = 0; i < 16; ++i) x[16 * s + i] = offset + g(rng) * scale;
            }
            sets.push_back(x);
        }
        for (size_t k = 0; k < sets.size(); ++k)
            for (DType t : quantizable_types()) {
                SCOPED_TRACE("set " + std::to_string(k) + " seed " + std::to_string(seed));
                check_max_error(t, sets[k], round_trip(t, sets[k]), "set " + std::to_string(k));
            }
    }
}

TEST(QuantRoundTrip, AllZerosGiveExactZeros) {
    const std::vector<float> x(512, 0.0f);
    for (DType t : quantizable_types()) {
        const auto y = round_trip(t, x);
        for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(y[i], 0.0f) << dtype_name(t) << " element " << i;
    }
}

TEST(QuantRoundTrip, ConstantBlocks) {
    // 0.75 is exact in f16; 0.7 and -3.3 are not; 1000 is large; -1e-3 small and negative.
    for (float c : {0.75f, 0.7f, -3.3f, 1000.0f, -1e-3f}) {
        const std::vector<float> x(512, c);
        for (DType t : quantizable_types()) {
            SCOPED_TRACE("constant " + std::to_string(c));
            const auto y = round_trip(t, x);
            check_max_error(t, x, y, "constant");
            // Every element of a constant block decodes to the same value.
            for (size_t i = 1; i < y.size(); ++i) ASSERT_EQ(y[i], y[0]) << dtype_name(t);
        }
    }
    // The affine types store a constant block as the offset alone: exact when it is an f16 value.
    for (DType t : {DType::Q4_1, DType::Q5_1, DType::F16}) {
        const std::vector<float> x(512, -0.75f);
        for (float v : round_trip(t, x)) ASSERT_EQ(v, -0.75f) << dtype_name(t);
    }
}

TEST(QuantRoundTrip, SingleLargeOutlier) {
    // One value 1000x the rest per 256 values: the outlier decodes close to itself (the scale is
    // built around it) and every block stays inside its bound.
    for (uint32_t seed : seeds()) {
        auto x = gaussian(seed, 256 * 8, 1.0f);
        std::mt19937 rng(seed);
        std::uniform_int_distribution<int> pos(0, 255);
        std::vector<size_t> where;
        for (size_t b = 0; b < x.size() / 256; ++b) {
            const size_t i = b * 256 + static_cast<size_t>(pos(rng));
            x[i] = (b % 2 ? -1000.0f : 1000.0f);
            where.push_back(i);
        }
        for (DType t : quantizable_types()) {
            SCOPED_TRACE("seed " + std::to_string(seed));
            const auto y = round_trip(t, x);
            check_max_error(t, x, y, "outlier");
            for (size_t i : where) EXPECT_NEAR(y[i], x[i], 1000.0 * 0.02) << dtype_name(t) << " outlier " << i;
        }
    }
}

TEST(QuantRoundTrip, NegativeOnlyAndPositiveOnlyData) {
    for (uint32_t seed : seeds()) {
        auto neg = gaussian(seed, 256 * 8, 1.0f);
        for (auto& v : neg) v = -std::fabs(v) - 0.5f;
        auto pos = gaussian(seed + 1, 256 * 8, 1.0f);
        for (auto& v : pos) v = std::fabs(v) + 0.5f;
        for (DType t : quantizable_types()) {
            SCOPED_TRACE("seed " + std::to_string(seed));
            const auto yn = round_trip(t, neg);
            check_max_error(t, neg, yn, "negative-only");
            for (float v : yn) ASSERT_LE(v, 0.0f) << dtype_name(t);
            check_max_error(t, pos, round_trip(t, pos), "positive-only");
        }
    }
}

TEST(QuantRoundTrip, DeterministicAndExactlySized) {
    // Same input twice -> same bytes; the input's alignment and the output buffer's previous contents
    // do not matter; nothing is written past dtype_bytes(t, n).
    const auto x = gaussian(fresh_seed(), 256 * 4, 1.0f);
    for (DType t : quantizable_types()) {
        const uint64_t n = x.size();
        const size_t bytes = dtype_bytes(t, n);
        EXPECT_EQ(bytes, n / dtype_info(t).block_elems * dtype_info(t).block_bytes);
        std::vector<uint8_t> a(bytes + 16, 0x00), b(bytes + 16, 0xff);
        quantize_row(t, x.data(), a.data(), n);
        std::vector<float> shifted(n + 1);
        std::memcpy(shifted.data() + 1, x.data(), n * sizeof(float));
        quantize_row(t, shifted.data() + 1, b.data(), n);
        EXPECT_TRUE(std::equal(a.begin(), a.begin() + static_cast<long>(bytes), b.begin())) << dtype_name(t);
        for (size_t i = bytes; i < bytes + 16; ++i) {
            EXPECT_EQ(a[i], 0x00) << dtype_name(t) << " wrote past the end";
            EXPECT_EQ(b[i], 0xff) << dtype_name(t) << " wrote past the end";
        }
        // And a third time into a fresh buffer, from the original input.
        std::vector<uint8_t> c(bytes);
        quantize_row(t, x.data(), c.data(), n);
        EXPECT_TRUE(std::equal(c.begin(), c.end(), a.begin())) << dtype_name(t) << " not deterministic";
    }
}

TEST(QuantRoundTrip, PlainFloatTypesMatchHalfConversions) {
    const auto x = gaussian(kFixedSeed, 64, 10.0f);
    std::vector<uint8_t> f16(128), bf16(128), f32(256);
    quantize_row(DType::F16, x.data(), f16.data(), 64);
    quantize_row(DType::BF16, x.data(), bf16.data(), 64);
    quantize_row(DType::F32, x.data(), f32.data(), 64);
    for (size_t i = 0; i < 64; ++i) {
        EXPECT_EQ(f16[2 * i] | f16[2 * i + 1] << 8, f32_to_f16(x[i]));
        EXPECT_EQ(bf16[2 * i] | bf16[2 * i + 1] << 8, f32_to_bf16(x[i]));
        float back;
        std::memcpy(&back, &f32[4 * i], 4);
        EXPECT_EQ(std::bit_cast<uint32_t>(back), std::bit_cast<uint32_t>(x[i]));
    }
}

TEST(QuantRoundTrip, Errors) {
    std::vector<float> x(256, 1.0f);
    std::vector<uint8_t> out(4096);
    // Types without a reference quantizer, named in the message.
    for (DType t : {DType::Q8_1, DType::Q8_K, DType::IQ2_XXS, DType::MXFP4, DType::F64, DType::I8}) {
        try {
            quantize_row(t, x.data(), out.data(), dtype_info(t).block_elems);
            ADD_FAILURE() << "no exception for " << dtype_name(t);
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(dtype_name(t)), std::string::npos) << e.what();
        }
    }
    // A partial block.
    EXPECT_THROW(quantize_row(DType::Q4_K, x.data(), out.data(), 100), FormatError);
    EXPECT_THROW(quantize_row(DType::Q8_0, x.data(), out.data(), 31), FormatError);
    // Non-finite input to a block type, with the index in the message.
    for (float bad : {NAN, INFINITY, -INFINITY}) {
        x[77] = bad;
        for (DType t : quantizable_types()) {
            if (!is_block_type(t)) continue;
            try {
                quantize_row(t, x.data(), out.data(), 256);
                ADD_FAILURE() << "no exception for " << dtype_name(t);
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("77"), std::string::npos) << e.what();
            }
        }
    }
    x[77] = 1.0f;
    // Values whose block scale cannot be an f16 (above ~65504 * levels).
    x[5] = 3e9f;
    for (DType t : quantizable_types()) {
        if (is_block_type(t)) {
            EXPECT_THROW(quantize_row(t, x.data(), out.data(), 256), Error) << dtype_name(t);
        }
    }
    // Zero elements: nothing to do.
    EXPECT_NO_THROW(quantize_row(DType::Q4_K, nullptr, nullptr, 0));
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// Throughput of the reference codecs on one thread (run with --gtest_also_run_disabled_tests,
// meaningful in a Release build only).
TEST(QuantRoundTrip, DISABLED_Throughput) {
    const size_t n = size_t{1} << 22;  // 4 Mi values
    const auto x = gaussian(kFixedSeed, n, 1.0f);
    std::vector<float> y(n);
    for (DType t : quantizable_types()) {
        std::vector<uint8_t> q(dtype_bytes(t, n));
        auto time = [&](auto&& fn) {
            int reps = 0;
            const auto start = std::chrono::steady_clock::now();
            double s = 0.0;
            do {
                fn();
                ++reps;
                s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            } while (s < 0.5);
            return static_cast<double>(n) * reps / s / 1e6;
        };
        const double qs = time([&] { quantize_row(t, x.data(), q.data(), n); });
        const double ds = time([&] { dequantize_row(t, q.data(), y.data(), n); });
        std::cout << "[ quant  ] " << dtype_name(t) << ": quantize " << qs << " M values/s, dequantize " << ds
                  << " M values/s\n";
    }
}

}  // namespace
}  // namespace gd
