// The CPU matrix-product kernels against a double-precision reference built from the reference
// decoder (dequantize_row), for every decodable type and every ISA this machine runs.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/matmul_kernels.h"
#include "common/error.h"
#include "common/half.h"
#include "format/quant/quant.h"

namespace gd::cpu {
namespace {

std::vector<Isa> machine_isas() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512})
        if (isa_supported(isa)) out.push_back(isa);
    return out;
}

// A weight matrix in its stored type, plus its reference decoding. The bytes start one byte into
// their buffer (kernels must not assume alignment) and end exactly at its end (ASan catches reads
// past the last row).
struct Weights {
    DType type;
    int64_t rows, K;
    size_t row_bytes;
    std::vector<uint8_t> buffer;
    std::vector<float> decoded;  // rows x K
    const uint8_t* data() const { return buffer.data() + 1; }
};

void encode_row(DType t, const float* src, uint8_t* dst, int64_t K) {
    switch (t) {
        case DType::F32: std::memcpy(dst, src, static_cast<size_t>(K) * 4); return;
        case DType::F64:
            for (int64_t k = 0; k < K; ++k) {
                const double v = src[k];
                std::memcpy(dst + 8 * k, &v, 8);
            }
            return;
        case DType::F16:
            for (int64_t k = 0; k < K; ++k) {
                const uint16_t h = f32_to_f16(src[k]);
                std::memcpy(dst + 2 * k, &h, 2);
            }
            return;
        case DType::BF16:
            for (int64_t k = 0; k < K; ++k) {
                const uint16_t h = f32_to_bf16(src[k]);
                std::memcpy(dst + 2 * k, &h, 2);
            }
            return;
        default: quantize_row(t, src, dst, static_cast<uint64_t>(K));
    }
}

Weights make_weights(DType t, int64_t rows, int64_t K, std::mt19937& rng) {
    Weights w{t, rows, K, static_cast<size_t>(dtype_bytes(t, static_cast<uint64_t>(K))), {}, {}};
    w.buffer.resize(1 + w.row_bytes * static_cast<size_t>(rows));
    w.decoded.resize(static_cast<size_t>(rows * K));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> src(static_cast<size_t>(K));
    for (int64_t r = 0; r < rows; ++r) {
        const float row_scale = 0.02f * static_cast<float>(1 + r % 5);  // rows of different magnitude
        for (auto& v : src) v = row_scale * normal(rng);
        uint8_t* dst = w.buffer.data() + 1 + static_cast<size_t>(r) * w.row_bytes;
        encode_row(t, src.data(), dst, K);
        dequantize_row(t, dst, w.decoded.data() + r * K, static_cast<uint64_t>(K));
    }
    return w;
}

struct Activations {
    int64_t T, ldx;
    std::vector<float> x;
};

Activations make_activations(int64_t T, int64_t K, std::mt19937& rng) {
    Activations a{T, K + 5, {}};
    a.x.resize(static_cast<size_t>(T * a.ldx));
    std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
    for (auto& v : a.x) v = uniform(rng);
    return a;
}

constexpr float kSentinel = 12345.0f;

// Runs tokens [0, T) and rows [n0, n1) and checks every output against the double reference.
//
// Tolerance: 1e-5 of sum_k |w_k x_k|. The kernels differ from the reference only in f32 rounding:
// decoding with one FMA rounding instead of two (at most 1 ulp ~ 6e-8 of |w| per element), and
// summing in another order (vector lanes, K chunks). Rounding errors of a sum are bounded by a few
// ulp of the sum of the magnitudes per level of the addition tree, and with random signs they grow
// like sqrt(K) ulp (~3e-6 at K = 2816): 1e-5 leaves a margin while still catching any wrong element,
// which costs at least |w_k x_k| and, for the dense random data here, far more than 1e-5 of the sum.
void check(Isa isa, const Weights& w, const Activations& a, int64_t T, int64_t n0, int64_t n1) {
    const int64_t ldy = w.rows + 3;
    std::vector<float> y(static_cast<size_t>(T * ldy), kSentinel);
    matmul_rows(isa, w.type, w.data(), w.row_bytes, w.K, a.x.data(), a.ldx, T, y.data(), ldy, n0, n1);
    for (int64_t t = 0; t < T; ++t) {
        for (int64_t n = 0; n < ldy; ++n) {
            const float got = y[static_cast<size_t>(t * ldy + n)];
            if (n < n0 || n >= n1) {
                ASSERT_EQ(got, kSentinel) << "row " << n << " outside the range was written";
                continue;
            }
            double ref = 0.0, mag = 0.0;
            for (int64_t k = 0; k < w.K; ++k) {
                const double p = static_cast<double>(w.decoded[static_cast<size_t>(n * w.K + k)]) *
                                 static_cast<double>(a.x[static_cast<size_t>(t * a.ldx + k)]);
                ref += p;
                mag += std::fabs(p);
            }
            ASSERT_NEAR(got, ref, 1e-5 * mag + 1e-30)
                << isa_name(isa) << " " << dtype_name(w.type) << " K=" << w.K << " T=" << T << " t=" << t
                << " n=" << n;
        }
    }
}

class MatmulType : public ::testing::TestWithParam<DType> {};

TEST_P(MatmulType, MatchesReferenceForEveryIsa) {
    const DType t = GetParam();
    const int64_t block = dtype_info(t).block_elems;
    std::vector<int64_t> ks = {block == 1 ? 32 : block, 768, 2816};
    if (block == 1) ks.insert(ks.end(), {1, 37, 1000});  // vector tails and a partial last chunk
    std::mt19937 rng(1234u + static_cast<unsigned>(t));
    for (int64_t K : ks) {
        // 13 rows, of which [3, 12) are computed: a full 8-row panel plus a remainder, not at row 0.
        const Weights w = make_weights(t, 13, K, rng);
        const Activations a = make_activations(17, K, rng);
        for (Isa isa : machine_isas())
            for (int64_t T : {1, 3, 17}) {
                check(isa, w, a, T, 3, 12);
                if (HasFatalFailure()) return;
            }
    }
}

std::vector<DType> decodable_types() {
    std::vector<DType> out;
    for (int i = 0; i < static_cast<int>(DType::COUNT); ++i) {
        const DType t = static_cast<DType>(i);
        if (dtype_info(t).dequantizable) out.push_back(t);
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(AllTypes, MatmulType, ::testing::ValuesIn(decodable_types()),
                         [](const ::testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

TEST(MatmulKernels, EmptyRangesAndZeroK) {
    std::mt19937 rng(7);
    const Weights w = make_weights(DType::Q8_0, 4, 64, rng);
    const Activations a = make_activations(2, 64, rng);
    for (Isa isa : machine_isas()) {
        std::vector<float> y(8, kSentinel);
        matmul_rows(isa, DType::Q8_0, w.data(), w.row_bytes, 64, a.x.data(), a.ldx, 2, y.data(), 4, 2, 2);
        matmul_rows(isa, DType::Q8_0, w.data(), w.row_bytes, 64, a.x.data(), a.ldx, 0, y.data(), 4, 0, 4);
        for (float v : y) EXPECT_EQ(v, kSentinel);
        matmul_rows(isa, DType::F32, nullptr, 0, 0, a.x.data(), a.ldx, 2, y.data(), 4, 1, 3);
        EXPECT_EQ(y[0], kSentinel);
        EXPECT_EQ(y[1], 0.0f);
        EXPECT_EQ(y[2], 0.0f);
        EXPECT_EQ(y[5], 0.0f);
        EXPECT_EQ(y[7], kSentinel);
    }
}

TEST(MatmulKernels, RejectsTypesWithoutDecoderAndPartialBlocks) {
    std::vector<uint8_t> w(1024);
    std::vector<float> x(256), y(4);
    for (Isa isa : machine_isas()) {
        EXPECT_THROW(matmul_rows(isa, DType::I8, w.data(), 32, 32, x.data(), 32, 1, y.data(), 4, 0, 1), Error);
        EXPECT_THROW(matmul_rows(isa, DType::IQ2_XXS, w.data(), 66, 256, x.data(), 256, 1, y.data(), 4, 0, 1), Error);
        EXPECT_THROW(matmul_rows(isa, DType::Q4_K, w.data(), 144, 100, x.data(), 100, 1, y.data(), 4, 0, 1), Error);
    }
}

TEST(MatmulKernels, DotAndAxpyWithOddLengths) {
    std::mt19937 rng(99);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    for (int64_t n : {0, 1, 7, 8, 15, 16, 17, 31, 33, 63, 65, 100, 1023}) {
        // One float past the start, so the vectors are not 32- or 64-byte aligned.
        std::vector<float> a(static_cast<size_t>(n) + 1), b(static_cast<size_t>(n) + 1), y0(static_cast<size_t>(n) + 9);
        for (auto& v : a) v = uniform(rng);
        for (auto& v : b) v = uniform(rng);
        for (auto& v : y0) v = uniform(rng);
        double ref = 0.0, mag = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            ref += static_cast<double>(a[i + 1]) * b[i + 1];
            mag += std::fabs(static_cast<double>(a[i + 1]) * b[i + 1]);
        }
        const float alpha = 0.75f;
        for (Isa isa : machine_isas()) {
            EXPECT_NEAR(dot_f32(isa, a.data() + 1, b.data() + 1, n), ref, 1e-6 * mag + 1e-30)
                << isa_name(isa) << " n=" << n;
            std::vector<float> y = y0;
            axpy_f32(isa, alpha, a.data() + 1, y.data() + 1, n);
            for (int64_t i = 0; i < n + 9; ++i) {
                if (i >= 1 && i <= n) {
                    const double want = y0[i] + static_cast<double>(alpha) * a[i];
                    // one or two roundings of y + alpha x
                    EXPECT_NEAR(y[i], want, 1.2e-7 * (std::fabs(y0[i]) + std::fabs(alpha * a[i])))
                        << isa_name(isa) << " n=" << n << " i=" << i;
                } else {
                    EXPECT_EQ(y[i], y0[i]) << isa_name(isa) << " n=" << n << " wrote outside at " << i;
                }
            }
        }
    }
}

TEST(MatmulKernels, IsaCapFromEnvironment) {
    const char* old = std::getenv("GEMMADESK_ISA");
    const std::string saved = old ? old : "";
    setenv("GEMMADESK_ISA", "scalar", 1);
    EXPECT_EQ(detected_isa(), Isa::Scalar);
    setenv("GEMMADESK_ISA", "avx512", 1);
    const Isa capped = detected_isa();
    EXPECT_TRUE(isa_supported(capped));
    setenv("GEMMADESK_ISA", "avx2", 1);
    EXPECT_NE(detected_isa(), Isa::Avx512);
    setenv("GEMMADESK_ISA", "sse9", 1);
    EXPECT_THROW(detected_isa(), Error);
    if (old)
        setenv("GEMMADESK_ISA", saved.c_str(), 1);
    else
        unsetenv("GEMMADESK_ISA");
    EXPECT_TRUE(isa_supported(detected_isa()));
    EXPECT_TRUE(isa_supported(Isa::Scalar));
    EXPECT_STREQ(isa_name(Isa::Avx2), "avx2");
}

}  // namespace
}  // namespace gd::cpu
