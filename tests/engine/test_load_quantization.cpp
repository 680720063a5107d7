// Load-time quantization (LoadOptions::quantize): an f32 model quantized while it loads is the same
// model as the one make-test-model writes in that type — the same storage rule and quantizer — so
// teacher-forced scores are identical, from a Hugging Face folder and from a GGUF file. Bad types and
// cancellation are refused plainly.
#include <gtest/gtest.h>

#include "common/error.h"
#include "engine/engine.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"

namespace gd::test {
namespace {

std::shared_ptr<Model> load(const std::string& path, std::optional<DType> quantize, const ProgressCallback& progress = {}) {
    LoadOptions o;
    o.paths = {path};
    o.threads = 2;
    o.context = 128;
    o.batch = 64;
    o.device = LoadOptions::Device::Cpu;
    o.quantize = quantize;
    return Model::load(o, progress);
}

std::vector<PositionScore> scores(const std::shared_ptr<Model>& m) {
    Session s(m);
    std::vector<int32_t> ids;
    for (int32_t i = 0; i < 24; ++i) ids.push_back(2 + (i * 37) % 200);
    return s.score(ids, 8);
}

class LoadQuantization : public ::testing::TestWithParam<std::tuple<Variant, DType, bool>> {};

TEST_P(LoadQuantization, EqualsTheModelWrittenInThatType) {
    const auto [variant, type, from_gguf] = GetParam();
    const auto quantized = load(tiny_model(variant, from_gguf), type);
    EXPECT_GT(quantized->quantized_tensors(), 0u);
    EXPECT_LT(quantized->quantized_bytes_out(), quantized->quantized_bytes_in());
    const auto written = load(tiny_model(variant, true, 1, type), std::nullopt);
    EXPECT_EQ(written->quantized_tensors(), 0u);
    const auto a = scores(quantized), b = scores(written);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].top, b[i].top) << "position " << i;
}

INSTANTIATE_TEST_SUITE_P(Types, LoadQuantization,
                         ::testing::Values(std::make_tuple(Variant::E2B, DType::Q8_0, false),
                                           std::make_tuple(Variant::E2B, DType::Q4_K, true),
                                           std::make_tuple(Variant::A26B, DType::Q8_0, false),
                                           std::make_tuple(Variant::B31, DType::Q4_K, false)));

TEST(LoadQuantization, RefusesTypesItCannotProduceAndStopsWhenCancelled) {
    EXPECT_THROW(load(tiny_model(Variant::E2B, false), DType::BF16), Error);
    EXPECT_THROW(load(tiny_model(Variant::E2B, false), DType::Q8_0,
                      [](double f, const std::string& stage) { return !(stage.rfind("quantizing", 0) == 0 && f > 0.2); }),
                 Cancelled);
}

}  // namespace
}  // namespace gd::test
