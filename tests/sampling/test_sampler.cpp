// The sampler: each step against values worked out by hand, the draw frequencies against the
// probabilities, and reproducibility for a seed.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "common/error.h"
#include "sampling/sampler.h"

namespace gd {
namespace {

const std::vector<int32_t> kNone;

TEST(Sampler, GreedyTakesTheLargestFiniteLogitLowestIdOnTies) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_EQ(argmax(std::vector<float>{0.5f, 2.0f, nan, 2.0f, -1.0f}), 1);
    SamplingParams p;
    p.temperature = 0;
    Sampler s(p);
    EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, 3.0f}, kNone), 1);
    EXPECT_THROW(argmax(std::vector<float>{nan, nan}), Error);
    EXPECT_THROW(s.sample(std::vector<float>{nan}, kNone), Error);
}

// logits (2, 1, 0, -1) at temperature 1: p = e^-k / (1 + e^-1 + e^-2 + e^-3) = 0.6439, 0.2369, 0.0871, 0.0321.
TEST(Sampler, TopKTopPAndMinPKeepTheRightSets) {
    const std::vector<float> logits = {1.0f, 2.0f, -1.0f, 0.0f};  // token 1 best, then 0, 3, 2
    SamplingParams p;
    p.top_k = 0;
    p.top_p = 1.0f;
    auto c = Sampler(p).candidates(logits, kNone);
    ASSERT_EQ(c.size(), 4u);
    EXPECT_EQ(c[0].first, 1);
    EXPECT_NEAR(c[0].second, 0.6439f, 1e-4f);
    EXPECT_NEAR(c[3].second, 0.0321f, 1e-4f);
    p.top_k = 2;  // tokens 1, 0 renormalised: 0.7311, 0.2689
    c = Sampler(p).candidates(logits, kNone);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_NEAR(c[0].second, 0.7311f, 1e-4f);
    p.top_k = 0;
    p.top_p = 0.85f;  // cumulative 0.6439, 0.8808 >= 0.85: keep two
    EXPECT_EQ(Sampler(p).candidates(logits, kNone).size(), 2u);
    p.top_p = 0.6f;  // the first token alone reaches it
    EXPECT_EQ(Sampler(p).candidates(logits, kNone).size(), 1u);
    p.top_p = 1.0f;
    p.min_p = 0.1f;  // keep p >= 0.0644: tokens 1, 0, 3
    c = Sampler(p).candidates(logits, kNone);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[2].first, 3);
    p.min_p = 0;
    p.temperature = 0.5f;  // logits doubled: p(1) = 1 / (1 + e^-2 + e^-4 + e^-6) = 1 / 1.15612 = 0.86496
    EXPECT_NEAR(Sampler(p).candidates(logits, kNone)[0].second, 0.86496f, 1e-4f);
}

// transformers' repetition penalty divides positive logits and multiplies negative ones; presence and
// frequency penalties subtract; only tokens in the window count.
TEST(Sampler, PenaltiesFollowTheRules) {
    SamplingParams p;
    p.temperature = 0;
    p.repetition_penalty = 2.0f;
    const std::vector<float> logits = {3.0f, 2.0f, -1.0f};
    EXPECT_EQ(Sampler(p).sample(logits, std::vector<int32_t>{0}), 1);  // 3/2 = 1.5 < 2
    p.repetition_penalty = 1.0f;
    p.presence_penalty = 0.5f;
    p.frequency_penalty = 0.3f;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.temperature = 1.0f;
    // token 0 seen twice: 3 - 0.5 - 0.6 = 1.9; token 1 once: 2 - 0.8 = 1.2; token 2 unseen: -1.
    const auto c = Sampler(p).candidates(logits, std::vector<int32_t>{0, 1, 0});
    const double z = std::exp(1.9) + std::exp(1.2) + std::exp(-1.0);
    EXPECT_NEAR(c[0].second, std::exp(1.9) / z, 1e-6);
    EXPECT_EQ(c[0].first, 0);
    p.penalty_window = 1;  // only the last token (0) counts: 3 - 0.5 - 0.3 = 2.2
    const auto w = Sampler(p).candidates(logits, std::vector<int32_t>{0, 1, 0});
    const double z2 = std::exp(2.2) + std::exp(2.0) + std::exp(-1.0);
    EXPECT_NEAR(w[0].second, std::exp(2.2) / z2, 1e-6);
}

TEST(Sampler, DrawFrequenciesMatchTheProbabilities) {
    SamplingParams p;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.seed = 12345;
    Sampler s(p);
    const std::vector<float> logits = {1.0f, 2.0f, -1.0f, 0.0f};
    const auto c = s.candidates(logits, kNone);
    std::map<int32_t, int> hits;
    const int n = 200000;
    for (int k = 0; k < n; ++k) ++hits[s.sample(logits, kNone)];
    for (const auto& [tok, q] : c) {
        const double sd = std::sqrt(q * (1 - q) / n);
        EXPECT_NEAR(static_cast<double>(hits[tok]) / n, q, 5 * sd) << "token " << tok;  // 5 standard errors
    }
}

TEST(Sampler, SameSeedSameTokensAndParametersAreChecked) {
    SamplingParams p;
    p.seed = 7;
    std::vector<float> logits(50);
    for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
    Sampler a(p), b(p);
    p.seed = 8;
    Sampler c(p);
    std::vector<int32_t> ta, tb, tc;
    for (int k = 0; k < 100; ++k) {
        ta.push_back(a.sample(logits, ta));
        tb.push_back(b.sample(logits, tb));
        tc.push_back(c.sample(logits, tc));
    }
    EXPECT_EQ(ta, tb);
    EXPECT_NE(ta, tc);
    a.reseed(7);
    EXPECT_EQ(a.sample(logits, kNone), ta[0]);
    SamplingParams bad;
    bad.temperature = -1;
    EXPECT_THROW(Sampler{bad}, Error);
    bad = SamplingParams{};
    bad.top_p = 0;
    EXPECT_THROW(Sampler{bad}, Error);
    bad = SamplingParams{};
    bad.repetition_penalty = 0;
    EXPECT_THROW(Sampler{bad}, Error);
}

}  // namespace
}  // namespace gd
