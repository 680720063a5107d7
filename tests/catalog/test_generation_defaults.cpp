// Sampling defaults from generation_config.json, from llama.cpp's general.sampling.* GGUF keys, or
// Gemma 4's recommended values; untrusted values out of range are ignored with a note.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "catalog/catalog_support.h"
#include "model/generation_defaults.h"
#include "support/test_support.h"

namespace gd {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

void expect_recommended(const GenerationDefaults& d) {
    EXPECT_FLOAT_EQ(d.temperature, 1.0f);
    EXPECT_EQ(d.top_k, 64);
    EXPECT_FLOAT_EQ(d.top_p, 0.95f);
    EXPECT_FLOAT_EQ(d.min_p, 0.0f);
}

TEST(GenerationDefaults, FromGenerationConfigJson) {
    const std::string dir = test::scratch_dir("gen_defaults_hf");
    test::write_tiny_model(Variant::E2B, TestModelFormat::Safetensors, DType::F32, dir + "/hf");
    // make-test-model writes Google's values; replace them with others to see they are read.
    test::write_file(dir + "/hf/generation_config.json",
                     [] {
                         const std::string s = json{{"do_sample", true}, {"temperature", 0.7}, {"top_k", 40}, {"top_p", 0.9},
                                                    {"min_p", 0.05}}.dump();
                         return std::vector<uint8_t>(s.begin(), s.end());
                     }());
    const GenerationDefaults d = read_generation_defaults(ModelFiles::open({dir + "/hf"}));
    EXPECT_EQ(d.source, "generation_config.json");
    EXPECT_FLOAT_EQ(d.temperature, 0.7f);
    EXPECT_EQ(d.top_k, 40);
    EXPECT_FLOAT_EQ(d.top_p, 0.9f);
    EXPECT_FLOAT_EQ(d.min_p, 0.05f);
    EXPECT_TRUE(d.notes.empty());

    // Without the file: the recommended values.
    fs::remove(dir + "/hf/generation_config.json");
    const GenerationDefaults none = read_generation_defaults(ModelFiles::open({dir + "/hf"}));
    EXPECT_EQ(none.source, "Gemma 4 recommended");
    expect_recommended(none);
}

TEST(GenerationDefaults, TheTestModelsCarryGooglesValues) {
    const GenerationDefaults d = read_generation_defaults(ModelFiles::open({test::data_dir() + "/hf_reference/e2b_tiny_hf"}));
    EXPECT_EQ(d.source, "generation_config.json");
    expect_recommended(d);
}

TEST(GenerationDefaults, DoSampleFalseIsGreedy) {
    const GenerationDefaults d = generation_defaults_from_json({{"do_sample", false}, {"temperature", 0.8}}, "g.json");
    EXPECT_EQ(d.source, "generation_config.json");
    EXPECT_FLOAT_EQ(d.temperature, 0.0f);
    // Only the keys present are taken; the rest stay recommended.
    EXPECT_EQ(d.top_k, 64);
    const GenerationDefaults partial = generation_defaults_from_json({{"top_k", 20}}, "g.json");
    EXPECT_EQ(partial.top_k, 20);
    EXPECT_FLOAT_EQ(partial.temperature, 1.0f);
    EXPECT_FLOAT_EQ(partial.top_p, 0.95f);
}

TEST(GenerationDefaults, GarbageValuesAreIgnoredWithNotes) {
    const json garbage = {{"temperature", "hot"}, {"top_k", 3.5}, {"top_p", 1.5}, {"min_p", -0.1}, {"do_sample", "yes"}};
    const GenerationDefaults d = generation_defaults_from_json(garbage, "g.json");
    expect_recommended(d);
    EXPECT_EQ(d.source, "Gemma 4 recommended");
    ASSERT_EQ(d.notes.size(), 4u);
    EXPECT_EQ(d.notes[0], "g.json: temperature is not a number, ignored");
    EXPECT_EQ(d.notes[2], "g.json: top_p 1.5 is outside (0, 1], ignored");
    // Huge and zero values at the edges.
    const GenerationDefaults e =
        generation_defaults_from_json({{"temperature", 1e9}, {"top_k", 1e12}, {"top_p", 0}, {"min_p", 1}}, "g.json");
    EXPECT_FLOAT_EQ(e.temperature, 1.0f);
    EXPECT_EQ(e.top_k, 64);
    EXPECT_FLOAT_EQ(e.top_p, 0.95f);
    EXPECT_FLOAT_EQ(e.min_p, 1.0f);
    // Negative top_k means "off" to llama.cpp and transformers alike.
    EXPECT_EQ(generation_defaults_from_json({{"top_k", -1}}, "g.json").top_k, 0);
    // Not an object at all.
    expect_recommended(generation_defaults_from_json(json::array({1, 2}), "g.json"));
    expect_recommended(generation_defaults_from_json(nullptr, "g.json"));
}

TEST(GenerationDefaults, FromGgufSamplingKeys) {
    const std::string dir = test::scratch_dir("gen_defaults_gguf");
    test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, dir + "/plain/m.gguf");
    const GenerationDefaults plain = read_generation_defaults(ModelFiles::open({dir + "/plain/m.gguf"}));
    EXPECT_EQ(plain.source, "Gemma 4 recommended");
    expect_recommended(plain);

    // The keys and types llama.cpp's gguf-py writes (top_k as int32, the rest as float32).
    fs::create_directories(dir + "/keys");
    test::copy_gguf_with(dir + "/plain/m.gguf", dir + "/keys/m.gguf",
                         {{"general.sampling.temp", GgufValue::make_f32(0.6f)},
                          {"general.sampling.top_k", GgufValue::make_i32(20)},
                          {"general.sampling.top_p", GgufValue::make_f32(0.8f)},
                          {"general.sampling.min_p", GgufValue::make_f32(0.02f)}});
    const GenerationDefaults d = read_generation_defaults(ModelFiles::open({dir + "/keys/m.gguf"}));
    EXPECT_EQ(d.source, "gguf");
    EXPECT_FLOAT_EQ(d.temperature, 0.6f);
    EXPECT_EQ(d.top_k, 20);
    EXPECT_FLOAT_EQ(d.top_p, 0.8f);
    EXPECT_FLOAT_EQ(d.min_p, 0.02f);

    fs::create_directories(dir + "/bad");
    test::copy_gguf_with(dir + "/plain/m.gguf", dir + "/bad/m.gguf",
                         {{"general.sampling.temp", GgufValue::make_f32(-5.0f)},
                          {"general.sampling.top_k", GgufValue::make_string("many")},
                          {"general.sampling.top_p", GgufValue::make_f32(std::numeric_limits<float>::quiet_NaN())},
                          {"general.sampling.min_p", GgufValue::make_f32(0.1f)}});
    const GenerationDefaults b = read_generation_defaults(ModelFiles::open({dir + "/bad/m.gguf"}));
    EXPECT_EQ(b.source, "gguf");  // min_p was usable
    EXPECT_FLOAT_EQ(b.temperature, 1.0f);
    EXPECT_EQ(b.top_k, 64);
    EXPECT_FLOAT_EQ(b.top_p, 0.95f);
    EXPECT_FLOAT_EQ(b.min_p, 0.1f);
    ASSERT_EQ(b.notes.size(), 3u);
    EXPECT_NE(b.notes[1].find("general.sampling.top_k is a string, not a number"), std::string::npos) << b.notes[1];
}

}  // namespace
}  // namespace gd
