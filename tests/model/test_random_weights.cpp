// Test-model weights: the vectorised fill and the per-element value agree everywhere (including
// across the 2^32-element boundary of huge tensors), values stay in their range and look uniform.
#include <gtest/gtest.h>

#include <cmath>

#include "model/variants.h"
#include "testmodel/random_weights.h"

namespace gd {
namespace {

ExpectedTensor matrix(const std::string& name, std::vector<uint64_t> shape) {
    ExpectedTensor t;
    t.name = name;
    t.shape = std::move(shape);
    return t;
}

TEST(WeightInit, FillEqualsValueAcrossThe32BitBoundary) {
    const ModelConfig c = preset_config(Variant::E2B, ModelSize::Tiny);
    const WeightInit w(matrix("blk.0.ffn_up.weight", {256, 128}), 5, c);
    for (uint64_t start : {uint64_t(0), uint64_t(12345), (uint64_t(1) << 32) - 100, uint64_t(3) << 32}) {
        std::vector<float> a(300);
        w.fill(start, a.data(), a.size());
        for (uint64_t k = 0; k < a.size(); ++k) ASSERT_EQ(a[k], w.value(start + k)) << start + k;
    }
}

TEST(WeightInit, MatricesAreUniformWithVarianceOneOverFanIn) {
    const ModelConfig c = preset_config(Variant::E2B, ModelSize::Tiny);
    const WeightInit w(matrix("blk.0.ffn_up.weight", {256, 128}), 9, c);
    const uint64_t n = 1 << 16;
    std::vector<float> x(n);
    w.fill(0, x.data(), n);
    const float a = std::sqrt(3.0f / 128);
    double mean = 0, var = 0;
    for (float v : x) {
        ASSERT_GE(v, -a);
        ASSERT_LT(v, a);
        mean += v;
    }
    mean /= n;
    for (float v : x) var += (v - mean) * (v - mean);
    var /= n;
    EXPECT_NEAR(mean, 0.0, 4 * a / std::sqrt(3.0 * n));  // 4 standard errors
    EXPECT_NEAR(var, 1.0 / 128, 0.02 / 128);
    // Different seeds and tensors give different streams.
    EXPECT_NE(w.value(0), WeightInit(matrix("blk.0.ffn_up.weight", {256, 128}), 10, c).value(0));
    EXPECT_NE(w.value(0), WeightInit(matrix("blk.1.ffn_up.weight", {256, 128}), 9, c).value(0));
}

TEST(WeightInit, RoleSpecificRanges) {
    const ModelConfig c = preset_config(Variant::E2B, ModelSize::Tiny);
    auto range = [&](const std::string& name, float lo, float hi) {
        const WeightInit w(matrix(name, {64}), 1, c);
        for (uint64_t k = 0; k < 64; ++k) {
            EXPECT_GE(w.value(k), lo) << name;
            EXPECT_LE(w.value(k), hi) << name;
        }
    };
    range("blk.0.layer_output_scale.weight", 0.3f, 0.9f);
    range("blk.0.attn_norm.weight", 0.5f, 1.5f);
    range("v.blk.0.attn_q.input_min", -6.f, -2.f);
    range("v.blk.0.attn_q.output_max", 4.f, 10.f);
    const WeightInit rope(matrix("rope_freqs.weight", {16}), 1, c);
    for (uint64_t k = 0; k < 16; ++k) EXPECT_EQ(rope.value(k), k < 4 ? 1.0f : 1e30f);  // 0.25 * 32 / 2 pairs rotate
}

}  // namespace
}  // namespace gd
