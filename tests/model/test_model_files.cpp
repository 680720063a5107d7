// Opening model files as one model: test models of every variant in both formats, the real
// transformers-written checkpoints and the llama.cpp fixture, and every way a model can be broken.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "format/gguf_writer.h"
#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "model/model_files.h"
#include "model/model_report.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"

namespace gd {
namespace {

namespace fs = std::filesystem;

std::string make_model(const std::string& dir, Variant v, TestModelFormat fmt, DType t = DType::F32, uint64_t seed = 1,
                       unsigned threads = 2) {
    TestModelOptions o;
    o.variant = v;
    o.format = fmt;
    o.dtype = t;
    o.seed = seed;
    o.threads = threads;
    o.out = dir + (fmt == TestModelFormat::Gguf ? "/model.gguf" : "/hf");
    write_test_model(o);
    return o.out;
}

std::vector<float> to_f32(const TensorView& v) {
    std::vector<float> x(v.elements());
    dequantize_row(v.type, v.data, x.data(), x.size());
    return x;
}

class EveryVariant : public ::testing::TestWithParam<Variant> {};

TEST_P(EveryVariant, TestModelsOpenAsTheirPresetInBothFormats) {
    const Variant v = GetParam();
    const std::string dir = test::scratch_dir(std::string("files_") + variant_name(v));
    const ModelConfig preset = preset_config(v, ModelSize::Tiny);
    for (auto fmt : {TestModelFormat::Gguf, TestModelFormat::Safetensors}) {
        const ModelFiles m = ModelFiles::open({make_model(dir, v, fmt)});
        EXPECT_EQ(m.config().variant, v);
        EXPECT_TRUE(m.is_tiny_test_model());
        EXPECT_EQ(m.config().vision.has_value(), preset.vision.has_value());
        EXPECT_EQ(m.config().audio.has_value(), preset.audio.has_value());
        EXPECT_EQ(m.config().tokens.image, preset.tokens.image);
        EXPECT_EQ(m.config().tokens.boa, preset.tokens.boa);
        EXPECT_TRUE(m.unused_tensors().empty());
        const ModelReport r = make_report(m);
        const ParamCounts want = count_params(preset);
        for (int p = 0; p < static_cast<int>(Part::Count); ++p)
            EXPECT_EQ(r.params.by_part[p], want.by_part[p]) << part_name(static_cast<Part>(p));
        EXPECT_EQ(r.params.buffers, want.buffers);
        if (fmt == TestModelFormat::Gguf) {
            EXPECT_EQ(m.files().size(), preset.vision ? 2u : 1u);
        }
    }
}

// The GGUF and safetensors files of one seed hold the same model, element for element, through
// GGUF's different layouts (conv-layout patch embedding, softplus-ed audio scales).
TEST_P(EveryVariant, GgufAndSafetensorsOfOneSeedHoldTheSameValues) {
    const Variant v = GetParam();
    const std::string dir = test::scratch_dir(std::string("same_") + variant_name(v));
    const ModelFiles g = ModelFiles::open({make_model(dir, v, TestModelFormat::Gguf)});
    const ModelFiles s = ModelFiles::open({make_model(dir, v, TestModelFormat::Safetensors)});
    size_t compared = 0;
    for (const ModelTensor& st : s.tensors()) {
        const ModelTensor* gt = g.find(st.spec.name);
        ASSERT_NE(gt, nullptr) << st.spec.name;
        const auto a = to_f32(st.view), b = to_f32(gt->view);
        ASSERT_EQ(a.size(), b.size()) << st.spec.name;
        for (size_t k = 0; k < a.size(); ++k) {
            float expect = a[k];
            size_t idx = k;
            if (st.spec.gguf_layout == GgufLayout::ConvPatch) {
                // canonical [o][(py*16+px)*3+c] -> stored [o][c][py][px]
                const size_t p = st.spec.gguf_shape[3], per = 3 * p * p, o = k / per, rem = k % per;
                const size_t py = rem / 3 / p, px = rem / 3 % p, c = rem % 3;
                idx = o * per + c * p * p + py * p + px;
            }
            if (st.spec.gguf_layout == GgufLayout::SoftplusApplied) expect = std::log1p(std::exp(expect));
            ASSERT_NEAR(b[idx], expect, 1e-6f * std::max(1.f, std::fabs(expect))) << st.spec.name << " element " << k;
        }
        ++compared;
    }
    EXPECT_EQ(compared, s.tensors().size());
}

INSTANTIATE_TEST_SUITE_P(Variants, EveryVariant, ::testing::Values(Variant::E2B, Variant::E4B, Variant::A26B, Variant::B31),
                         [](const auto& param_info) {
                             std::string n = variant_name(param_info.param);
                             for (auto& c : n) {
                                 if (c == '-') c = '_';
                             }
                             return n;
                         });

TEST(TestModels, AreByteForByteDeterministic) {
    const std::string dir = test::scratch_dir("determinism");
    fs::create_directories(dir + "/a");
    fs::create_directories(dir + "/b");
    fs::create_directories(dir + "/c");
    make_model(dir + "/a", Variant::E4B, TestModelFormat::Gguf, DType::Q4_K, 7, 1);
    make_model(dir + "/b", Variant::E4B, TestModelFormat::Gguf, DType::Q4_K, 7, 4);
    make_model(dir + "/c", Variant::E4B, TestModelFormat::Gguf, DType::Q4_K, 8, 2);
    EXPECT_EQ(test::read_file(dir + "/a/model.gguf"), test::read_file(dir + "/b/model.gguf"));
    EXPECT_EQ(test::read_file(dir + "/a/mmproj-model.gguf"), test::read_file(dir + "/b/mmproj-model.gguf"));
    EXPECT_NE(test::read_file(dir + "/a/model.gguf"), test::read_file(dir + "/c/model.gguf"));
    make_model(dir + "/a", Variant::E4B, TestModelFormat::Safetensors, DType::BF16, 7, 1);
    make_model(dir + "/b", Variant::E4B, TestModelFormat::Safetensors, DType::BF16, 7, 3);
    EXPECT_EQ(test::read_file(dir + "/a/hf/model.safetensors"), test::read_file(dir + "/b/hf/model.safetensors"));
    EXPECT_EQ(test::read_file(dir + "/a/hf/config.json"), test::read_file(dir + "/b/hf/config.json"));
    EXPECT_EQ(test::read_file(dir + "/a/hf/tokenizer.json"), test::read_file(dir + "/b/hf/tokenizer.json"));
}

// --repeat-rows (benchmark models): the first rows of each piece are the exact model's, the others
// copies of them, so every row is a valid row of the stored type; small tensors are unchanged.
TEST(TestModels, RepeatedRowsCopyTheExactModelsFirstRows) {
    const std::string dir = test::scratch_dir("repeat-rows");
    fs::create_directories(dir + "/exact");
    fs::create_directories(dir + "/repeat");
    const std::string exact = make_model(dir + "/exact", Variant::E2B, TestModelFormat::Gguf, DType::Q8_0);
    TestModelOptions o;
    o.variant = Variant::E2B;
    o.dtype = DType::Q8_0;
    o.seed = 1;
    o.repeat_rows = true;
    o.out = dir + "/repeat/model.gguf";
    write_test_model(o);
    const ModelFiles a = ModelFiles::open({exact}), b = ModelFiles::open({o.out});
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    int repeated = 0;
    for (size_t i = 0; i < a.tensors().size(); ++i) {
        const TensorView& x = a.tensors()[i].view;
        const TensorView& y = b.tensors()[i].view;
        ASSERT_EQ(x.name, y.name);
        ASSERT_EQ(x.nbytes, y.nbytes);
        const uint64_t rows = x.shape.size() < 2 ? 1 : x.elements() / x.shape.back();
        const uint64_t row_bytes = x.nbytes / rows;
        const uint64_t pool = std::min<uint64_t>(rows, kRepeatPoolRows);  // tiny tensors are one piece
        EXPECT_EQ(std::memcmp(x.data, y.data, pool * row_bytes), 0) << x.name;
        for (uint64_t r = pool; r < rows; ++r) {
            bool found = false;
            for (uint64_t p = 0; p < pool && !found; ++p)
                found = std::memcmp(y.data + r * row_bytes, x.data + p * row_bytes, row_bytes) == 0;
            ASSERT_TRUE(found) << x.name << " row " << r;
            ++repeated;
        }
    }
    EXPECT_GT(repeated, 1000);  // the embedding and PLE tables have thousands of rows
}

TEST(TestModels, QuantizedGgufKeepsSmallTensorsInF32AndFallsBackOnShortRows) {
    const std::string dir = test::scratch_dir("quantized");
    const ModelFiles m = ModelFiles::open({make_model(dir, Variant::B31, TestModelFormat::Gguf, DType::Q4_K)});
    EXPECT_EQ(m.get("blk.0.attn_norm.weight").view.type, DType::F32);
    EXPECT_EQ(m.get("blk.0.layer_output_scale.weight").view.type, DType::F32);
    EXPECT_EQ(m.get("v.position_embd.weight").view.type, DType::F32);
    // Rows of 256 (the MLP width) are whole q4_k blocks; rows of 128 (hidden) fall back to q5_0.
    EXPECT_EQ(m.get("blk.0.ffn_down.weight").view.type, DType::Q4_K);
    EXPECT_EQ(m.get("blk.0.ffn_up.weight").view.type, DType::Q5_0);
    const ModelReport r = make_report(m);
    EXPECT_TRUE(r.types.count("q4_k"));
    EXPECT_EQ(gguf_storage_type("x", {64, 256}, DType::Q6_K), DType::Q6_K);
    EXPECT_EQ(gguf_storage_type("x", {64, 128}, DType::Q6_K), DType::Q8_0);
    EXPECT_EQ(gguf_storage_type("x", {64, 128}, DType::IQ4_XS), DType::IQ4_NL);
    EXPECT_EQ(gguf_storage_type("x", {64, 48}, DType::Q8_0), DType::F16);
}

TEST(RealFiles, TransformersCheckpointsOpen) {
    for (const char* name : {"e2b_tiny_hf", "26b-a4b_tiny_hf"}) {
        const ModelFiles m = ModelFiles::open({test::data_dir() + "/hf_reference/" + name});
        EXPECT_TRUE(m.is_tiny_test_model()) << name;
        EXPECT_EQ(m.format(), ModelFormat::Safetensors);
        EXPECT_TRUE(m.unused_tensors().empty()) << name;
        const ModelReport r = make_report(m);
        EXPECT_EQ(r.params.total(), count_params(m.config()).total());
    }
}

TEST(RealFiles, LlamaCppFixtureOpensAsACustomE2BWithKEqV) {
    const ModelFiles m = ModelFiles::open({test::data_dir() + "/llamacpp/tiny-e2b.gguf"});
    const TextConfig& t = m.config().text;
    EXPECT_EQ(m.config().variant, Variant::Custom);
    EXPECT_EQ(family_of(m.config()), Variant::E2B);
    EXPECT_EQ(t.num_layers, 10);
    EXPECT_EQ(t.hidden_size, 128);
    EXPECT_EQ(t.vocab_size, 580);
    EXPECT_TRUE(t.attention_k_eq_v);  // the fixture README: no attn_v on global layers
    EXPECT_TRUE(t.use_double_wide_mlp);
    EXPECT_EQ(t.num_kv_shared_layers, 5);
    EXPECT_EQ(t.kv_source_layer(7), 3);  // llama.cpp maps sliding shared layers to layer 3
    EXPECT_EQ(t.kv_source_layer(9), 4);  // and the global one to layer 4
    EXPECT_EQ(t.head_dim, 16);
    EXPECT_EQ(t.global_head_dim, 32);
    EXPECT_EQ(t.sliding_window, 16);
    EXPECT_DOUBLE_EQ(t.partial_rotary_factor_full, 0.25);  // 4 of 16 pairs rotate
    EXPECT_DOUBLE_EQ(t.rope_theta_full, 1e6);
    EXPECT_DOUBLE_EQ(t.rms_norm_eps, 1e-6);
    EXPECT_EQ(m.config().tokens.image, 21);
    EXPECT_EQ(m.tensors().size(), 160u);
    EXPECT_FALSE(m.notes().empty());  // says there is no mmproj
}

// Rewrites a GGUF file with edits: drop a tensor, or change one's shape.
std::string rewrite_gguf(const std::string& in, const std::string& out, const std::string& drop,
                         const std::string& reshape = "", std::vector<uint64_t> new_shape = {}) {
    const GgufFile f = GgufFile::open(in);
    GgufWriter w(f.alignment());
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    for (const TensorView& v : f.views()) {
        if (v.name == drop) continue;
        std::vector<uint8_t> bytes(v.data, v.data + v.nbytes);
        std::vector<uint64_t> shape = v.shape;
        if (v.name == reshape) {
            shape = new_shape;
            uint64_t n = 1;
            for (auto d : shape) n *= d;
            bytes.assign(dtype_bytes(v.type, n), 0);
        }
        w.add_tensor_bytes(v.name, shape, v.type, bytes);
    }
    w.write(out);
    return out;
}

void expect_model_error(const std::vector<std::string>& paths, const std::vector<std::string>& needles) {
    try {
        ModelFiles::open(paths);
        ADD_FAILURE() << "opened, expected an error";
    } catch (const Error& e) {
        for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what() << "\nmissing: " << n;
    }
}

TEST(BrokenModels, MissingTensorNamesFileTensorAndShape) {
    const std::string dir = test::scratch_dir("broken_missing");
    const std::string good = make_model(dir, Variant::E2B, TestModelFormat::Gguf);
    fs::create_directories(dir + "/x");
    const std::string bad = rewrite_gguf(good, dir + "/x/model.gguf", "blk.3.attn_k.weight");
    expect_model_error({bad}, {"x/model.gguf", "blk.3.attn_k.weight", "is missing", "[16, 128]"});
}

TEST(BrokenModels, MisShapedTensorNamesExpectedAndFound) {
    const std::string dir = test::scratch_dir("broken_shape");
    const std::string good = make_model(dir, Variant::B31, TestModelFormat::Gguf);
    fs::create_directories(dir + "/x");
    const std::string bad = rewrite_gguf(good, dir + "/x/model.gguf", "", "blk.5.attn_q.weight", {64, 128});
    expect_model_error({bad}, {"blk.5.attn_q.weight", "has shape [64, 128]", "expected [128, 128]"});
}

TEST(BrokenModels, WrongFilesAreExplained) {
    const std::string dir = test::scratch_dir("broken_wrong");
    const std::string e2b = make_model(dir, Variant::E2B, TestModelFormat::Gguf);
    expect_model_error({dir + "/mmproj-model.gguf"}, {"mmproj", "text model file"});
    fs::create_directories(dir + "/o");
    make_model(dir + "/o", Variant::A26B, TestModelFormat::Gguf);
    // An mmproj of another model (tiny 26B also has hidden 128, so change the claim by hand).
    {
        const GgufFile f = GgufFile::open(dir + "/o/mmproj-model.gguf");
        GgufWriter w;
        for (const auto& [k, v] : f.metadata()) w.set(k, v);
        w.set_u32("clip.vision.projection_dim", 2816);
        for (const TensorView& v : f.views()) w.add_tensor_bytes(v.name, v.shape, v.type, std::vector<uint8_t>(v.data, v.data + v.nbytes));
        w.write(dir + "/o/other-mmproj.gguf");
    }
    expect_model_error({e2b, dir + "/o/other-mmproj.gguf"}, {"projection_dim is 2816", "belongs to another model"});
    expect_model_error({dir + "/nonexistent.gguf"}, {"does not exist"});
    expect_model_error({dir}, {"neither a .gguf file nor a Hugging Face model folder"});
    // A truncated model file.
    auto bytes = test::read_file(e2b);
    bytes.resize(bytes.size() / 2);
    test::write_file(dir + "/cut.gguf", bytes);
    expect_model_error({dir + "/cut.gguf"}, {"cut.gguf", "truncated"});
}

TEST(BrokenModels, HfFolderProblemsAreExplained) {
    const std::string dir = test::scratch_dir("broken_hf");
    const std::string hf = make_model(dir, Variant::B31, TestModelFormat::Safetensors);
    // config.json that is not Gemma 4.
    auto cfg = nlohmann::json::parse(std::ifstream(hf + "/config.json"));
    cfg["model_type"] = "llama";
    std::ofstream(hf + "/config.json") << cfg.dump();
    expect_model_error({hf}, {"config.json", "not a Gemma 4 model"});
    // Shapes in config.json that do not match the weights.
    cfg["model_type"] = "gemma4";
    cfg["text_config"]["intermediate_size"] = 512;
    std::ofstream(hf + "/config.json") << cfg.dump();
    expect_model_error({hf}, {"model.safetensors", "mlp.gate_proj.weight", "[256, 128]", "expected [512, 128]"});
    // Nonsense sizes are caught by validation, not by an allocation.
    cfg["text_config"]["intermediate_size"] = 256;
    cfg["text_config"]["num_attention_heads"] = 3;
    std::ofstream(hf + "/config.json") << cfg.dump();
    expect_model_error({hf}, {"query heads are not a multiple"});
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// Splits a GGUF file the way llama.cpp's gguf-split does: metadata in the first part, tensors spread
// over `n` parts, split.no / split.count / split.tensors.count keys.
std::vector<std::string> split_gguf(const std::string& in, const std::string& prefix, int n) {
    const GgufFile f = GgufFile::open(in);
    const auto views = f.views();
    std::vector<std::string> out;
    for (int k = 0; k < n; ++k) {
        GgufWriter w;
        if (k == 0)
            for (const auto& [key, v] : f.metadata()) w.set(key, v);
        GgufValue no;
        no.type = GgufType::UINT16;
        no.u = static_cast<uint64_t>(k);
        GgufValue count = no;
        count.u = static_cast<uint64_t>(n);
        w.set("split.no", no);
        w.set("split.count", count);
        GgufValue total;
        total.type = GgufType::INT32;
        total.i = static_cast<int64_t>(views.size());
        w.set("split.tensors.count", total);
        for (size_t t = k; t < views.size(); t += static_cast<size_t>(n))
            w.add_tensor_bytes(views[t].name, views[t].shape, views[t].type,
                               std::vector<uint8_t>(views[t].data, views[t].data + views[t].nbytes));
        char name[64];
        std::snprintf(name, sizeof name, "-%05d-of-%05d.gguf", k + 1, n);
        out.push_back(prefix + name);
        w.write(out.back());
    }
    return out;
}

TEST(SplitGguf, PartsOpenAsOneModelWithTheSameTensors) {
    const std::string dir = test::scratch_dir("split");
    const std::string whole = make_model(dir, Variant::E4B, TestModelFormat::Gguf, DType::Q8_0);
    fs::create_directories(dir + "/split");
    const auto parts = split_gguf(whole, dir + "/split/e4b", 3);
    fs::copy_file(dir + "/mmproj-model.gguf", dir + "/split/mmproj-e4b.gguf");
    const ModelFiles a = ModelFiles::open({whole});
    const ModelFiles b = ModelFiles::open({parts[1]});  // any part names the model
    EXPECT_EQ(b.config().variant, Variant::E4B);
    ASSERT_EQ(a.tensors().size(), b.tensors().size());
    for (const ModelTensor& t : a.tensors()) {
        const ModelTensor& u = b.get(t.spec.name);
        ASSERT_EQ(t.view.nbytes, u.view.nbytes) << t.spec.name;
        EXPECT_EQ(std::memcmp(t.view.data, u.view.data, t.view.nbytes), 0) << t.spec.name;
    }
    EXPECT_EQ(b.files().size(), 4u);  // three parts and the mmproj
    EXPECT_EQ(b.files()[2].role, "text model (part 3 of 3)");
    for (const ModelTensor& t : b.tensors()) {  // each tensor is reported in the part that holds it
        if (!t.spec.in_mmproj) {
            EXPECT_NE(GgufFile::open(t.file).find_tensor(t.spec.name), nullptr) << t.spec.name;
        }
    }

    fs::remove(parts[2]);
    expect_model_error({parts[0]}, {"part 3 of 3 is missing", "e4b-00003-of-00003.gguf"});
}

TEST(SplitGguf, InconsistentPartsAreErrors) {
    const std::string dir = test::scratch_dir("split_bad");
    const std::string whole = make_model(dir, Variant::B31, TestModelFormat::Gguf);
    fs::create_directories(dir + "/s");
    const auto parts = split_gguf(whole, dir + "/s/m", 2);
    fs::rename(parts[1], dir + "/s/tmp.gguf");
    fs::copy_file(parts[0], parts[1]);  // part 2 is a copy of part 1: wrong split.no
    expect_model_error({parts[0]}, {"m-00002-of-00002.gguf", "not part 2 of 2"});
    fs::copy_file(parts[0], dir + "/s/renamed.gguf");
    expect_model_error({dir + "/s/renamed.gguf"}, {"split into 2 files", "PREFIX-0000N-of-0000M.gguf"});
}

// Ollama keeps GGUF files as content-addressed blobs without an extension.
TEST(GgufDetection, ByMagicNotByName) {
    const std::string dir = test::scratch_dir("blob");
    const std::string whole = make_model(dir, Variant::B31, TestModelFormat::Gguf);
    const std::string blob = dir + "/sha256-0123456789abcdef";
    fs::copy_file(whole, blob);
    const ModelFiles m = ModelFiles::open({blob});
    EXPECT_EQ(m.format(), ModelFormat::Gguf);
    EXPECT_EQ(m.config().variant, Variant::B31);
    EXPECT_FALSE(looks_like_gguf(dir + "/hf"));
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// Extra tensors do not stop a model from loading: K/V of KV-shared layers (which some converters
// keep) are ignored as transformers ignores them, anything else is listed as not part of Gemma 4.
TEST(ExtraTensors, AreListedWithTheReason) {
    const std::string dir = test::scratch_dir("extra");
    const std::string good = make_model(dir, Variant::E2B, TestModelFormat::Gguf);
    const GgufFile f = GgufFile::open(good);
    GgufWriter w;
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    for (const TensorView& v : f.views())
        w.add_tensor_bytes(v.name, v.shape, v.type, std::vector<uint8_t>(v.data, v.data + v.nbytes));
    w.add_tensor_bytes("blk.7.attn_k.weight", {16, 128}, DType::F32, std::vector<uint8_t>(16 * 128 * 4, 0));
    w.add_tensor_bytes("mystery.weight", {4}, DType::F32, std::vector<uint8_t>(16, 0));
    fs::create_directories(dir + "/x");
    w.write(dir + "/x/model.gguf");
    const ModelFiles m = ModelFiles::open({dir + "/x/model.gguf"}, false);
    ASSERT_EQ(m.unused_tensors().size(), 2u);
    for (const auto& [name, why] : m.unused_tensors()) {
        if (name == "blk.7.attn_k.weight") EXPECT_NE(why.find("not used by this architecture"), std::string::npos) << why;
        else EXPECT_NE(why.find("not part of the Gemma 4 architecture"), std::string::npos) << name << ": " << why;
    }
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// Rewrites a GGUF file with some metadata changed and optionally one tensor's type changed.
std::string edit_gguf(const std::string& in, const std::string& out, const std::vector<std::pair<std::string, GgufValue>>& set,
                      const std::string& retype = "", DType to = DType::F32) {
    const GgufFile f = GgufFile::open(in);
    GgufWriter w(f.alignment());
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    for (const auto& [k, v] : set) w.set(k, v);
    for (const TensorView& v : f.views()) {
        if (v.name == retype) {
            w.add_tensor_bytes(v.name, v.shape, to, std::vector<uint8_t>(dtype_bytes(to, v.elements()), 0));
            continue;
        }
        w.add_tensor_bytes(v.name, v.shape, v.type, std::vector<uint8_t>(v.data, v.data + v.nbytes));
    }
    w.write(out);
    return out;
}

// Instruction-tuned conversions often store <turn|> as the eos id: <eos> must still stop generation.
TEST(GgufConfig, StopTokensAlwaysIncludeEosTurnEndAndToolResponse) {
    const std::string dir = test::scratch_dir("stops");
    const std::string good = make_model(dir, Variant::B31, TestModelFormat::Gguf);
    fs::create_directories(dir + "/x");
    const std::string it = edit_gguf(good, dir + "/x/m.gguf", {{"tokenizer.ggml.eos_token_id", GgufValue::make_u32(6)}});
    const ModelFiles m = ModelFiles::open({it}, false);
    const auto& stop = m.config().tokens.stop;
    EXPECT_EQ(stop, (std::vector<int64_t>{6, 1, 14}));  // file's eos (<turn|>), <eos>, <|tool_response>
    EXPECT_EQ(m.config().tokens.eos, 1);
}

TEST(GgufConfig, SmallNormEpsilonsSurviveAndTextOnlyFilesKeepTheirVariant) {
    const std::string dir = test::scratch_dir("eps");
    const std::string good = make_model(dir, Variant::E2B, TestModelFormat::Gguf);
    fs::create_directories(dir + "/x");
    const std::string p = edit_gguf(good, dir + "/x/m.gguf", {{"gemma4.attention.layer_norm_rms_epsilon", GgufValue::make_f32(1e-7f)}});
    const ModelFiles m = ModelFiles::open({p}, false);  // no mmproj: text only
    EXPECT_DOUBLE_EQ(m.config().text.rms_norm_eps, 1e-7);
    EXPECT_EQ(m.config().variant, Variant::E2B) << "a text-only download is still an E2B";
    EXPECT_FALSE(m.config().vision.has_value());
}

// Files with types we cannot compute with yet can still be inspected; the engine will refuse them.
TEST(GgufConfig, UncomputableTypesAreDescribedNotRefused) {
    const std::string dir = test::scratch_dir("iq2");
    const std::string good = make_model(dir, Variant::B31, TestModelFormat::Gguf);
    fs::create_directories(dir + "/x");
    const std::string p = edit_gguf(good, dir + "/x/m.gguf", {}, "blk.0.ffn_down.weight", DType::IQ2_XXS);
    const ModelFiles m = ModelFiles::open({p}, false);
    EXPECT_FALSE(m.computable());
    EXPECT_EQ(m.get("blk.0.ffn_down.weight").view.type, DType::IQ2_XXS);
    bool noted = false;
    for (const auto& n : m.notes()) noted |= n.find("stored as iq2_xxs") != std::string::npos;
    EXPECT_TRUE(noted);
    EXPECT_TRUE(ModelFiles::open({good}, false).computable());
}

// A text-only checkpoint saved by Gemma4ForCausalLM: model_type gemma4_text, tensors under model.*.
TEST(HfFolders, TextOnlyCheckpointsUseTheModelPrefix) {
    const std::string dir = test::scratch_dir("text_only");
    const std::string hf = make_model(dir, Variant::B31, TestModelFormat::Safetensors);
    const SafetensorsFile src = SafetensorsFile::open(hf + "/model.safetensors");
    std::vector<SafetensorsWriteTensor> out;
    const std::string prefix = "model.language_model.";
    for (const TensorView& v : src.tensors()) {
        if (v.name.rfind(prefix, 0) != 0) continue;  // text only
        out.push_back({"model." + v.name.substr(prefix.size()), v.type, v.shape,
                       [&v](uint8_t* dst, uint64_t n) { std::memcpy(dst, v.data, n); }, nullptr});
    }
    fs::create_directories(dir + "/t");
    write_safetensors(dir + "/t/model.safetensors", out);
    auto cfg = nlohmann::json::parse(std::ifstream(hf + "/config.json"));
    std::ofstream(dir + "/t/config.json") << cfg["text_config"].dump();  // model_type gemma4_text
    const ModelFiles m = ModelFiles::open({dir + "/t"});
    EXPECT_EQ(m.config().variant, Variant::B31);
    EXPECT_FALSE(m.config().vision.has_value());
    EXPECT_EQ(m.get("token_embd.weight").view.name, "model.embed_tokens.weight");
    EXPECT_TRUE(m.unused_tensors().empty());
}

// A second model written into the same folder replaces the first, it does not mix with it.
TEST(TestModels, RewritingAFolderRemovesStaleWeights) {
    const std::string dir = test::scratch_dir("stale");
    make_model(dir, Variant::E2B, TestModelFormat::Safetensors);
    TestModelOptions o;
    o.variant = Variant::B31;
    o.format = TestModelFormat::Safetensors;
    o.shard_bytes = 1 << 20;
    o.out = dir + "/hf";
    write_test_model(o);
    EXPECT_FALSE(fs::exists(dir + "/hf/model.safetensors"));
    EXPECT_EQ(ModelFiles::open({dir + "/hf"}).config().variant, Variant::B31);
}

}  // namespace
}  // namespace gd
