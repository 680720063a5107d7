// The audio conformer's ops of the CPU backend (layer_norm, relu, silu, glu, causal_depthwise_conv,
// attention_local) against plain double-precision loops. attention_local is checked against the
// reference's own formulation: queries in blocks of 12 over a 24-key context with a Transformer-XL
// "relative shift" of the position term (transformers' Gemma4AudioAttention), not the dense form the
// op uses, so the test also checks that the two forms agree.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backend/backend.h"
#include "backend/op_test_support.h"
#include "common/error.h"

namespace gd {
namespace {

using test::random_values;

Tensor make(Backend& b, int64_t rows, int64_t cols, const std::vector<float>& values) {
    return test::make_tensor(b, rows, cols, values);
}

std::vector<float> host(Backend& b, const Tensor& t) { return test::to_host(b, t); }

Weight vector_weight(const std::vector<float>& v) {
    Weight w;
    w.name = "test.weight";
    w.rows = 1;
    w.cols = static_cast<int64_t>(v.size());
    w.f32 = v;
    return w;
}

TEST(AudioOps, LayerNormSubtractsTheMeanPerGroup) {
    auto b = make_cpu_backend(2);
    const int64_t T = 5, C = 24, G = 8;
    const auto x = random_values(T * C, 1, -3, 5);
    const auto wv = random_values(G, 2, 0.5f, 1.5f);
    const Weight w = vector_weight(wv);
    Tensor in = make(*b, T, C, x), out = b->alloc(T, C);
    b->layer_norm(in, &w, G, 1e-6f, out);
    const auto got = host(*b, out);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t g0 = 0; g0 < C; g0 += G) {
            double mean = 0, var = 0;
            for (int64_t c = 0; c < G; ++c) mean += x[size_t(t * C + g0 + c)];
            mean /= G;
            for (int64_t c = 0; c < G; ++c) var += std::pow(x[size_t(t * C + g0 + c)] - mean, 2);
            var /= G;
            for (int64_t c = 0; c < G; ++c) {
                const double want = (x[size_t(t * C + g0 + c)] - mean) / std::sqrt(var + 1e-6) * wv[size_t(c)];
                EXPECT_NEAR(got[size_t(t * C + g0 + c)], want, 1e-5 * (1 + std::abs(want)));
            }
        }
    b->layer_norm(in, nullptr, C, 1e-6f, in);  // in place, no weight: mean 0, variance 1
    const auto self = host(*b, in);
    for (int64_t t = 0; t < T; ++t) {
        double mean = 0, var = 0;
        for (int64_t c = 0; c < C; ++c) mean += self[size_t(t * C + c)];
        for (int64_t c = 0; c < C; ++c) var += std::pow(self[size_t(t * C + c)], 2);
        EXPECT_NEAR(mean / C, 0.0, 1e-6);
        EXPECT_NEAR(var / C, 1.0, 1e-4);
    }
}

TEST(AudioOps, ReluSiluAndGlu) {
    auto b = make_cpu_backend(2);
    const int64_t T = 3, C = 10;
    const auto x = random_values(T * 2 * C, 3, -6, 6);
    Tensor r = make(*b, T, 2 * C, x), s = make(*b, T, 2 * C, x), g = b->alloc(T, C);
    b->relu(r);
    b->silu(s);
    b->glu(make(*b, T, 2 * C, x), g);
    const auto hr = host(*b, r), hs = host(*b, s), hg = host(*b, g);
    for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(hr[i], x[i] > 0 ? x[i] : 0.0f);
        const double sig = 1 / (1 + std::exp(-double(x[i])));
        EXPECT_NEAR(hs[i], x[i] * sig, 1e-6 * (1 + std::abs(x[i])));
    }
    for (int64_t t = 0; t < T; ++t)
        for (int64_t c = 0; c < C; ++c) {
            const double a = x[size_t(t * 2 * C + c)], gate = x[size_t(t * 2 * C + C + c)];
            EXPECT_NEAR(hg[size_t(t * C + c)], a / (1 + std::exp(-gate)), 1e-6 * (1 + std::abs(a)));
        }
    EXPECT_THROW(b->glu(g, g), Error);
}

TEST(AudioOps, CausalDepthwiseConvSeesOnlyThePast) {
    auto b = make_cpu_backend(2);
    const int64_t T = 9, C = 6, K = 5;
    const auto x = random_values(T * C, 4, -1, 1);
    const auto taps = random_values(C * K, 5, -1, 1);
    Tensor in = make(*b, T, C, x), out = b->alloc(T, C);
    b->causal_depthwise_conv(in, taps, K, out);
    const auto got = host(*b, out);
    for (int64_t t = 0; t < T; ++t)
        for (int64_t c = 0; c < C; ++c) {
            double want = 0;  // torch: pad K-1 zeros on the left, then a plain (cross-correlation) conv1d
            for (int64_t j = 0; j < K; ++j) {
                const int64_t src = t - (K - 1) + j;
                if (src >= 0) want += double(taps[size_t(c * K + j)]) * x[size_t(src * C + c)];
            }
            EXPECT_NEAR(got[size_t(t * C + c)], want, 1e-6);
        }
    EXPECT_THROW(b->causal_depthwise_conv(in, taps, K + 1, out), Error);
}

// transformers' blocked form, in double: queries in blocks of `chunk`, keys from a context of
// chunk + past (past = window) padded with masked slots, the position term computed against the
// table of rows d = past..0 and moved into place by the relative shift.
std::vector<double> blocked_reference(const std::vector<float>& q, const std::vector<float>& k,
                                      const std::vector<float>& v, const std::vector<float>& rel_by_distance,
                                      int64_t T, int64_t heads, int64_t d, int64_t window, double cap) {
    const int64_t chunk = 12, past = window, context = chunk + past, W = heads * d;
    // The reference's table has rows for distances past..0 (row r <-> distance past - r); the row for
    // distance `past` exists but is always masked, so its values do not matter.
    std::vector<double> table(size_t((past + 1) * W), 0.0);
    for (int64_t r = 0; r <= past; ++r) {
        const int64_t dist = past - r;
        if (dist < window)
            for (int64_t c = 0; c < W; ++c) table[size_t(r * W + c)] = rel_by_distance[size_t(dist * W + c)];
        else
            for (int64_t c = 0; c < W; ++c) table[size_t(r * W + c)] = 1e3;  // would blow up if not masked
    }
    std::vector<double> out(size_t(T * W), 0.0);
    const int64_t blocks = (T + chunk - 1) / chunk;
    for (int64_t h = 0; h < heads; ++h)
        for (int64_t blk = 0; blk < blocks; ++blk)
            for (int64_t i = 0; i < chunk; ++i) {
                const int64_t t = blk * chunk + i;
                if (t >= T) continue;
                // bd before the shift: q_t . table[r] for r = 0..past; after the shift column j holds
                // the entry r = j - i when 0 <= j - i <= past, else 0 (the padding).
                std::vector<double> logits(static_cast<size_t>(context));
                std::vector<bool> allowed(static_cast<size_t>(context));
                for (int64_t j = 0; j < context; ++j) {
                    const int64_t s = blk * chunk - past + j;
                    double ac = 0, bd = 0;
                    if (s >= 0 && s < T)
                        for (int64_t c = 0; c < d; ++c)
                            ac += double(q[size_t(t * W + h * d + c)]) * k[size_t(s * W + h * d + c)];
                    const int64_t r = j - i;
                    if (r >= 0 && r <= past)
                        for (int64_t c = 0; c < d; ++c)
                            bd += double(q[size_t(t * W + h * d + c)]) * table[size_t(r * W + h * d + c)];
                    const double l = cap * std::tanh((ac + bd) / cap);
                    const int64_t dist = t - s;
                    allowed[size_t(j)] = s >= 0 && s < T && dist >= 0 && dist < window;
                    logits[size_t(j)] = allowed[size_t(j)] ? l : -1e9;
                }
                double mx = -INFINITY, sum = 0;
                for (double l : logits) mx = std::max(mx, l);
                for (double& l : logits) sum += (l = std::exp(l - mx));
                for (int64_t j = 0; j < context; ++j) {
                    const int64_t s = blk * chunk - past + j;
                    if (!allowed[size_t(j)]) continue;
                    for (int64_t c = 0; c < d; ++c)
                        out[size_t(t * W + h * d + c)] += logits[size_t(j)] / sum * v[size_t(s * W + h * d + c)];
                }
            }
    return out;
}

TEST(AudioOps, LocalAttentionMatchesTheBlockedReference) {
    auto b = make_cpu_backend(2);
    for (const int64_t T : {1, 5, 12, 13, 30, 61}) {
        const int64_t heads = 3, d = 16, W = heads * d, window = 12;
        const float cap = 50.0f;
        const auto q = random_values(size_t(T * W), 10 + uint32_t(T), -2, 2);
        const auto k = random_values(size_t(T * W), 20 + uint32_t(T), -2, 2);
        const auto v = random_values(size_t(T * W), 30 + uint32_t(T), -1, 1);
        const auto rel = random_values(size_t(window * W), 40 + uint32_t(T), -2, 2);
        Tensor out = b->alloc(T, W);
        b->attention_local(make(*b, T, W, q), make(*b, T, W, k), make(*b, T, W, v), make(*b, window, W, rel), heads, d,
                           window, cap, out);
        const auto got = host(*b, out);
        const auto want = blocked_reference(q, k, v, rel, T, heads, d, window, cap);
        for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5) << "T " << T << " at " << i;
    }
}

TEST(AudioOps, LocalAttentionLogitCapBitesOnLargeScores) {
    // Scores 100 (key 0) and 90 (key 1): uncapped, key 0 would take 1/(1+e^-10) of the weight; capped
    // at 50 the logits are 48.2 and 47.3 and key 0 takes only about 70%.
    auto b = make_cpu_backend(1);
    const int64_t W = 4;
    std::vector<float> q = {0, 0, 0, 0, 10, 10, 0, 0};
    std::vector<float> k = {5, 5, 0, 0, 4.5f, 4.5f, 0, 0};
    std::vector<float> v = {1, 1, 1, 1, 0, 0, 0, 0};
    std::vector<float> rel(size_t(2 * W), 0.0f);
    Tensor out = b->alloc(2, W);
    b->attention_local(make(*b, 2, W, q), make(*b, 2, W, k), make(*b, 2, W, v), make(*b, 2, W, rel), 1, W, 2, 50.0f,
                       out);
    const auto got = host(*b, out);
    const double l0 = 50 * std::tanh(100.0 / 50), l1 = 50 * std::tanh(90.0 / 50);
    const double p0 = 1 / (1 + std::exp(l1 - l0));
    EXPECT_NEAR(got[0], 1.0, 1e-6);     // row 0 sees only itself
    EXPECT_NEAR(got[W], p0, 1e-5);      // row 1: key 0 (v = 1) with weight p0
    EXPECT_LT(got[W], 0.8);
}

}  // namespace
}  // namespace gd
