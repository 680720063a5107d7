// Load-time quantization saved as a file: quantizing an f32 tiny model gives the tensors
// make-test-model writes in that type (same rule, same codec), and the engine's logits on both are
// bit-identical.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "catalog/model_quantizer.h"
#include "common/error.h"
#include "engine/engine.h"
#include "format/gguf.h"
#include "support/test_support.h"

namespace gd {
namespace {

namespace fs = std::filesystem;

std::vector<PositionScore> score(const std::string& path) {
    LoadOptions o;
    o.paths = {path};
    o.device = LoadOptions::Device::Cpu;
    o.threads = 1;
    o.context = 64;
    Session s(Model::load(o));
    std::vector<int32_t> ids = {2, 40, 41, 99, 150, 7, 300, 301, 45, 46, 47, 48};
    return s.score(ids, 8);
}

void expect_same_tensors(const std::string& a, const std::string& b) {
    const GgufFile fa = GgufFile::open(a), fb = GgufFile::open(b);
    ASSERT_EQ(fa.tensor_infos().size(), fb.tensor_infos().size());
    for (const GgufTensorInfo& ta : fa.tensor_infos()) {
        const GgufTensorInfo* tb = fb.find_tensor(ta.name);
        ASSERT_NE(tb, nullptr) << ta.name;
        EXPECT_EQ(ta.type, tb->type) << ta.name;
        const TensorView va = fa.view(ta), vb = fb.view(*tb);
        ASSERT_EQ(va.nbytes, vb.nbytes) << ta.name;
        EXPECT_EQ(0, std::memcmp(va.data, vb.data, va.nbytes)) << ta.name;
    }
}

class QuantizeMatchesWriter : public ::testing::TestWithParam<std::pair<Variant, DType>> {};

TEST_P(QuantizeMatchesWriter, TensorsAndLogits) {
    const auto [variant, type] = GetParam();
    const std::string name = std::string(variant_name(variant)) + "_" + dtype_name(type);
    const std::string dir = test::scratch_dir("quantize_" + name);
    const std::string f32 = test::tiny_model(variant, true, 1, DType::F32);
    const std::string direct = test::tiny_model(variant, true, 1, type);
    QuantizeOptions o;
    o.input = f32;
    o.output = dir + "/out.gguf";
    o.type = type;
    o.threads = 2;
    double last = -1;
    bool monotonic = true;
    o.progress = [&](double f, const std::string&) {
        monotonic = monotonic && f >= last;
        last = f;
        return true;
    };
    const QuantizeResult r = quantize_model(o);
    EXPECT_TRUE(monotonic);
    EXPECT_EQ(last, 1.0);
    EXPECT_GT(r.quantized_tensors, 0u);
    EXPECT_LT(r.output_bytes, r.input_bytes);
    expect_same_tensors(o.output, direct);
    // The towers' file comes along, so the output opens with them.
    ASSERT_EQ(r.files.size(), 2u);
    EXPECT_TRUE(fs::exists(dir + "/mmproj-out.gguf"));
    EXPECT_TRUE(ModelFiles::open({o.output}).gguf_mmproj() != nullptr);

    const auto got = score(o.output), want = score(direct);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].top.size(), want[i].top.size());
        for (size_t k = 0; k < got[i].top.size(); ++k) {
            EXPECT_EQ(got[i].top[k].first, want[i].top[k].first) << "position " << i;
            EXPECT_EQ(got[i].top[k].second, want[i].top[k].second) << "position " << i;  // bit-identical
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Types, QuantizeMatchesWriter,
                         ::testing::Values(std::make_pair(Variant::E2B, DType::Q8_0), std::make_pair(Variant::E2B, DType::Q4_K),
                                           std::make_pair(Variant::A26B, DType::Q8_0)),
                         [](const auto& p) {
                             std::string n = std::string(variant_name(p.param.first)) + "_" + dtype_name(p.param.second);
                             for (char& ch : n)
                                 if (ch == '-') ch = '_';
                             return n;
                         });

TEST(Quantize, AlreadyQuantizedTensorsAreKept) {
    const std::string dir = test::scratch_dir("quantize_kept");
    QuantizeOptions o;
    o.input = test::tiny_model(Variant::E4B, true, 1, DType::Q8_0);
    o.output = dir + "/q4.gguf";
    o.type = DType::Q4_K;
    o.copy_mmproj = false;
    const QuantizeResult r = quantize_model(o);
    EXPECT_EQ(r.quantized_tensors, 0u);
    expect_same_tensors(o.output, o.input);
}

TEST(Quantize, ClearErrors) {
    const std::string dir = test::scratch_dir("quantize_errors");
    QuantizeOptions o;
    o.input = dir + "/missing.gguf";
    o.output = dir + "/out.gguf";
    try {
        quantize_model(o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
    }
    o.input = test::tiny_model(Variant::E2B, false);  // an HF folder
    try {
        quantize_model(o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("is a folder"), std::string::npos) << e.what();
    }
    o.input = test::tiny_model(Variant::E2B, true);
    o.output = dir + "/out.bin";
    EXPECT_THROW(quantize_model(o), Error);
    o.output = o.input;
    EXPECT_THROW(quantize_model(o), Error);
    o.output = dir + "/out.gguf";
    o.type = DType::IQ2_XXS;
    EXPECT_THROW(quantize_model(o), Error);
    o.type = DType::Q8_0;
    o.progress = [](double f, const std::string&) { return f < 0.3; };
    EXPECT_THROW(quantize_model(o), Cancelled);
}

}  // namespace
}  // namespace gd
