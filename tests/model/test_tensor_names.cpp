// The tensor list our config implies equals, name for name and shape for shape, the state_dict that
// transformers builds for the same config (tests/data/hf_reference/, made by
// tools/reference/hf_reference.py), and the parameter counts per part equal its counts (which
// reproduce spec §7.1).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "format/tensor_view.h"
#include "common/error.h"
#include "model/hf_config.h"
#include "model/tensor_names.h"
#include "model/variants.h"
#include "support/test_support.h"

namespace gd {
namespace {

using json = nlohmann::json;

json reference(Variant v, ModelSize size) {
    const std::string path = test::data_dir() + "/hf_reference/" + variant_name(v) + (size == ModelSize::Full ? "_full" : "_tiny") + ".json";
    std::ifstream f(path);
    EXPECT_TRUE(f.good()) << path;
    return json::parse(f);
}

struct Case {
    Variant variant;
    ModelSize size;
};

class AgainstTransformers : public ::testing::TestWithParam<Case> {};

TEST_P(AgainstTransformers, TensorNamesAndShapesMatchStateDict) {
    const auto [v, size] = GetParam();
    const json ref = reference(v, size);
    std::map<std::string, std::vector<uint64_t>> theirs;
    const ModelConfig c = preset_config(v, size);
    for (const json& t : ref["state_dict"])
        if (!is_ignorable_tensor(t["name"], c)) theirs[t["name"]] = t["shape"].get<std::vector<uint64_t>>();
    EXPECT_TRUE(is_ignorable_tensor("lm_head.weight", c));  // tied to the embedding: never read

    std::map<std::string, std::vector<uint64_t>> ours;
    for (const ExpectedTensor& t : expected_tensors(c))
        if (!t.gguf_only) ours[t.hf_name] = t.shape;

    for (const auto& [name, shape] : theirs) {
        auto it = ours.find(name);
        if (it == ours.end()) {
            ADD_FAILURE() << "transformers has " << name << " " << gd::shape_to_string(shape) << ", we do not";
            continue;
        }
        EXPECT_EQ(it->second, shape) << name;
    }
    for (const auto& [name, shape] : ours)
        EXPECT_TRUE(theirs.count(name)) << "we expect " << name << ", transformers has no such tensor";
}

TEST_P(AgainstTransformers, ParameterCountsPerPartMatch) {
    const auto [v, size] = GetParam();
    const json ref = reference(v, size);
    const json& pc = ref["parameter_counts"];
    const ParamCounts ours = count_params(preset_config(v, size));
    EXPECT_EQ(ours[Part::TokenEmbedding], pc["token_embedding"].get<uint64_t>());
    EXPECT_EQ(ours[Part::PleTable], pc["ple_table"].get<uint64_t>());
    EXPECT_EQ(ours[Part::PleOther], pc["ple_other"].get<uint64_t>());
    EXPECT_EQ(ours[Part::Attention], pc["attention"].get<uint64_t>());
    EXPECT_EQ(ours[Part::Mlp], pc["dense_mlp"].get<uint64_t>());
    EXPECT_EQ(ours[Part::Moe], pc["moe_experts_routers"].get<uint64_t>());
    EXPECT_EQ(ours[Part::TextNorms], pc["text_norms"].get<uint64_t>());
    EXPECT_EQ(ours[Part::VisionTower], pc["vision_tower"].get<uint64_t>());
    EXPECT_EQ(ours[Part::VisionEmbedder], pc["vision_embedder"].get<uint64_t>());
    EXPECT_EQ(ours[Part::AudioTower], pc["audio_tower"].get<uint64_t>());
    EXPECT_EQ(ours[Part::AudioEmbedder], pc["audio_embedder"].get<uint64_t>());
    EXPECT_EQ(ours.text(), pc["text_total"].get<uint64_t>());
    EXPECT_EQ(ours.total(), pc["total"].get<uint64_t>());
    EXPECT_EQ(ours.buffers, ref["buffer_counts"]["total"].get<uint64_t>());
}

// The config transformers serialised parses to the preset we wrote it from.
TEST_P(AgainstTransformers, TransformersConfigParsesToThePreset) {
    const auto [v, size] = GetParam();
    const json ref = reference(v, size);
    const ModelConfig parsed = config_from_hf_json(ref["config"], "reference config");
    const ModelConfig preset = preset_config(v, size);
    EXPECT_EQ(expected_tensors(parsed).size(), expected_tensors(preset).size());
    for (Part p = Part::TokenEmbedding; p != Part::Count; p = static_cast<Part>(static_cast<int>(p) + 1))
        EXPECT_EQ(count_params(parsed)[p], count_params(preset)[p]) << part_name(p);
    const TextConfig &a = parsed.text, &b = preset.text;
    EXPECT_EQ(a.layer_types, b.layer_types);
    EXPECT_EQ(a.global_head_dim, b.global_head_dim);
    EXPECT_EQ(a.head_dim, b.head_dim);
    EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
    EXPECT_EQ(a.layer_kv_heads(a.num_layers - 1), b.layer_kv_heads(b.num_layers - 1));
    EXPECT_EQ(a.attention_k_eq_v, b.attention_k_eq_v);
    EXPECT_EQ(a.sliding_window, b.sliding_window);
    EXPECT_EQ(a.num_kv_shared_layers, b.num_kv_shared_layers);
    EXPECT_DOUBLE_EQ(a.partial_rotary_factor_full, b.partial_rotary_factor_full);
    EXPECT_DOUBLE_EQ(a.rope_theta_full, b.rope_theta_full);
    EXPECT_DOUBLE_EQ(a.rope_theta_sliding, b.rope_theta_sliding);
    EXPECT_DOUBLE_EQ(a.final_logit_softcapping, b.final_logit_softcapping);
    EXPECT_EQ(a.bidirectional_attention, b.bidirectional_attention);
    EXPECT_EQ(parsed.tokens.image, preset.tokens.image);
    EXPECT_EQ(parsed.tokens.eoa, preset.tokens.eoa);
    bool tiny = false;
    EXPECT_EQ(detect_variant(parsed, &tiny), v);
    EXPECT_EQ(tiny, size == ModelSize::Tiny);
}

// KV donors and per-layer facts agree with what transformers derived for every layer.
TEST_P(AgainstTransformers, PerLayerFactsMatch) {
    const auto [v, size] = GetParam();
    const json ref = reference(v, size);
    const TextConfig t = preset_config(v, size).text;
    const json& layers = ref["derived"]["text_layers"];
    ASSERT_EQ(static_cast<int64_t>(layers.size()), t.num_layers);
    for (int64_t i = 0; i < t.num_layers; ++i) {
        const json& l = layers[static_cast<size_t>(i)];
        EXPECT_EQ(t.is_full(i), l["layer_type"] == "full_attention") << i;
        EXPECT_EQ(t.layer_head_dim(i), l["head_dim"].get<int64_t>()) << i;
        if (!l["num_key_value_heads"].is_null()) {  // null on KV-shared layers: they have no K/V of their own
            EXPECT_EQ(t.layer_kv_heads(i), l["num_key_value_heads"].get<int64_t>()) << i;
        }
        EXPECT_EQ(t.is_kv_shared(i), l["kv_sharing_mode"] == "reuse") << i;
        EXPECT_EQ(t.layer_ffn_width(i), l["mlp_intermediate_size"].get<int64_t>()) << i;
        EXPECT_EQ(t.layer_has_v_proj(i), l["has_v_proj"].get<bool>()) << i;
        const int64_t donor = l["kv_donor_layer"].is_null() ? i : l["kv_donor_layer"].get<int64_t>();
        EXPECT_EQ(t.kv_source_layer(i), donor) << i;
    }
}

INSTANTIATE_TEST_SUITE_P(Variants, AgainstTransformers,
                         ::testing::Values(Case{Variant::E2B, ModelSize::Full}, Case{Variant::E4B, ModelSize::Full},
                                           Case{Variant::A26B, ModelSize::Full}, Case{Variant::B31, ModelSize::Full},
                                           Case{Variant::E2B, ModelSize::Tiny}, Case{Variant::E4B, ModelSize::Tiny},
                                           Case{Variant::A26B, ModelSize::Tiny}, Case{Variant::B31, ModelSize::Tiny}),
                         [](const auto& param_info) {
                             std::string n = std::string(variant_name(param_info.param.variant)) +
                                             (param_info.param.size == ModelSize::Full ? "_full" : "_tiny");
                             for (auto& ch : n) {
                                 if (ch == '-') ch = '_';
                             }
                             return n;
                         });

// Spec §7.1 in round numbers, as a second, human-readable check of the full presets.
TEST(ParamCounts, ReproduceSpecTable) {
    auto billions = [](uint64_t n) { return static_cast<double>(n) / 1e9; };
    const ParamCounts e2b = count_params(preset_config(Variant::E2B, ModelSize::Full));
    const ParamCounts e4b = count_params(preset_config(Variant::E4B, ModelSize::Full));
    const ParamCounts a26 = count_params(preset_config(Variant::A26B, ModelSize::Full));
    const ParamCounts b31 = count_params(preset_config(Variant::B31, ModelSize::Full));
    EXPECT_NEAR(billions(e2b.text()), 4.63, 0.005);
    EXPECT_NEAR(billions(e4b.text()), 7.46, 0.005);
    EXPECT_NEAR(billions(a26.text()), 25.23, 0.005);
    EXPECT_NEAR(billions(b31.text()), 30.70, 0.005);
    EXPECT_NEAR(billions(e2b[Part::PleTable]), 2.349, 0.0005);
    EXPECT_NEAR(billions(e4b[Part::PleTable]), 2.819, 0.0005);
    EXPECT_NEAR(billions(a26[Part::Moe]), 22.849, 0.0005);
    EXPECT_NEAR(billions(b31[Part::Mlp]), 20.809, 0.0005);
    EXPECT_NEAR(billions(e2b.total()), 5.10, 0.005);
    EXPECT_NEAR(billions(e4b.total()), 7.94, 0.005);
    EXPECT_NEAR(billions(a26.total()), 25.8, 0.05);
    EXPECT_NEAR(billions(b31.total()), 31.3, 0.05);
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// Every GGUF name in our table is one llama.cpp knows: gguf-py's templates for the gemma4
// architecture and for mmproj files (tests/data/hf_reference/gguf_py_names.json, made by
// tools/reference/gguf_py_names.py). Our mmproj names are otherwise only checked against our own
// writer, which uses the same table.
TEST(GgufNames, AreLlamaCppTemplates) {
    std::ifstream f(test::data_dir() + "/hf_reference/gguf_py_names.json");
    ASSERT_TRUE(f.good());
    const json j = json::parse(f);
    std::set<std::string> text(j["gemma4"].begin(), j["gemma4"].end());
    std::set<std::string> mmproj(j["mmproj"].begin(), j["mmproj"].end());
    const std::regex block(R"(\.\d+(?=\.|$))");  // the block number: "blk.3.attn_q", "a.conv1d.0"
    for (Variant v : published_variants()) {
        for (const ExpectedTensor& t : expected_tensors(preset_config(v, ModelSize::Full))) {
            std::string base = t.name;
            for (const char* suffix : {".weight", ".bias", ".scale", ".input_min", ".input_max", ".output_min", ".output_max"}) {
                const std::string s(suffix);
                if (base.size() > s.size() && base.compare(base.size() - s.size(), s.size(), s) == 0) {
                    base.resize(base.size() - s.size());
                    break;
                }
            }
            const std::string templ = std::regex_replace(base, block, ".{bid}", std::regex_constants::format_first_only);
            const auto& known = t.in_mmproj ? mmproj : text;
            EXPECT_TRUE(known.count(templ)) << variant_name(v) << ": " << t.name << " (template " << templ << ") is not a llama.cpp name";
        }
    }
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// transformers >= 5.2x writes per_layer_config instead of global_head_dim; both forms give one config,
// and overrides of sliding layers or disagreeing entries are refused.
TEST(HfConfig, PerLayerConfigFormAndItsErrors) {
    json cfg = reference(Variant::B31, ModelSize::Tiny)["config"];
    json& text = cfg["text_config"];
    ASSERT_TRUE(text.contains("per_layer_config"));
    const ModelConfig a = config_from_hf_json(cfg, "per_layer_config form");
    json legacy = cfg;
    legacy["text_config"].erase("per_layer_config");
    legacy["text_config"]["global_head_dim"] = 32;
    legacy["text_config"]["num_global_key_value_heads"] = 1;
    const ModelConfig b = config_from_hf_json(legacy, "published form");
    EXPECT_EQ(a.text.global_head_dim, b.text.global_head_dim);
    EXPECT_EQ(a.text.layer_kv_heads(5), b.text.layer_kv_heads(5));
    EXPECT_EQ(a.text.layer_kv_heads(5), 1);

    json bad = cfg;
    bad["text_config"]["per_layer_config"]["00"] = {{"head_dim", 32}};
    EXPECT_THROW(config_from_hf_json(bad, "x"), ModelError);  // layer 0 is sliding
    bad = cfg;
    bad["text_config"]["per_layer_config"]["11"]["head_dim"] = 64;
    EXPECT_THROW(config_from_hf_json(bad, "x"), ModelError);  // full layers disagree
    bad = cfg;
    bad["text_config"]["per_layer_config"]["99999999999999999999"] = json::object();
    EXPECT_THROW(config_from_hf_json(bad, "x"), ModelError);
    // Unbounded sizes are rejected before anything multiplies them.
    bad = cfg;
    bad["vision_config"]["head_dim"] = int64_t(1) << 62;
    EXPECT_THROW(config_from_hf_json(bad, "x"), ModelError);
    // The written config reads back as the same model.
    const ModelConfig c = config_from_hf_json(config_to_hf_json(a), "round trip");
    EXPECT_EQ(count_params(c).total(), count_params(a).total());
    EXPECT_EQ(c.text.layer_types, a.text.layer_types);
}

TEST(TensorNames, IgnorableNamesNeverThrow) {
    const ModelConfig c = preset_config(Variant::E2B, ModelSize::Tiny);
    EXPECT_TRUE(is_ignorable_tensor("blk.7.attn_k.weight", c));
    EXPECT_TRUE(is_ignorable_tensor("model.layers.7.self_attn.v_proj.weight", c));
    EXPECT_FALSE(is_ignorable_tensor("blk.3.attn_k.weight", c));
    EXPECT_FALSE(is_ignorable_tensor("blk.99999999999999999999.attn_k.weight", c));
}

}  // namespace
}  // namespace gd

namespace gd {
namespace {

// Found by fuzz_hf_config: a per_layer_config entry for a layer beyond a short layer_types list read
// past the list. A layer_types list that does not match num_hidden_layers is now an error up front.
TEST(HfConfig, LayerTypesMustListEveryLayer) {
    const json cfg = json::parse(R"({"model_type":"gemma4_text","num_hidden_layers":4,
        "layer_types":["sliding_attention","full_attention"],"per_layer_config":{"3":{"head_dim":32}}})");
    try {
        config_from_hf_json(cfg, "config.json");
        ADD_FAILURE() << "accepted";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("layer_types lists 2 layers, num_hidden_layers is 4"), std::string::npos) << e.what();
    }
    std::ifstream seed(test::data_dir() + "/../fuzz/corpus/fuzz_hf_config/regression-layer-types-shorter-than-layers.json");
    ASSERT_TRUE(seed.good());
    const json crash = json::parse(seed, nullptr, false);
    ASSERT_FALSE(crash.is_discarded());
    EXPECT_THROW(config_from_hf_json(crash, "config.json"), Error);
}

}  // namespace
}  // namespace gd
