// HfFolder on the hand-written Gemma 4-like folder in tests/data/safetensors/hf_folder, and on copies
// of it with files removed, malformed or over their size limits.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "format/hf_folder.h"
#include "support/test_support.h"
#include "test_st_helpers.h"

namespace gd::test {
namespace {

namespace fs = std::filesystem;

std::string fixture() { return data_dir() + "/safetensors/hf_folder"; }

std::string copy_fixture(const std::string& test) {
    const auto dir = scratch_dir(test) + "/model";
    fs::copy(fixture(), dir, fs::copy_options::recursive);
    return dir;
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    ASSERT_TRUE(f.good()) << path;
}

std::string open_error(const std::string& dir) {
    try {
        HfFolder::open(dir);
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an error opening " << dir;
    return "";
}

void expect_contains(const std::string& message, std::initializer_list<std::string> needles) {
    for (const auto& n : needles) EXPECT_NE(message.find(n), std::string::npos) << "'" << n << "' not in: " << message;
}

TEST(HfFolder, OpensTheFixture) {
    ASSERT_TRUE(HfFolder::looks_like_hf_folder(fixture()));
    const auto h = HfFolder::open(fixture());
    EXPECT_EQ(h.dir, fixture());
    EXPECT_EQ(h.config.path, fixture() + "/config.json");
    EXPECT_EQ(h.config.json.at("model_type"), "gemma4");
    EXPECT_EQ(h.config.json.at("text_config").at("model_type"), "gemma4_text");
    EXPECT_EQ(h.config.json.at("text_config").at("hidden_size"), 4);
    EXPECT_TRUE(h.config.json.at("audio_config").is_null());
    EXPECT_EQ(h.config.json.at("eos_token_id"), nlohmann::json::array({1, 106}));

    ASSERT_TRUE(h.generation_config);
    EXPECT_EQ(h.generation_config->json.at("top_k"), 64);
    ASSERT_TRUE(h.processor_config);
    EXPECT_EQ(h.processor_config->json.at("image_seq_length"), 280);
    EXPECT_FALSE(h.preprocessor_config);
    ASSERT_TRUE(h.tokenizer);
    EXPECT_EQ(h.tokenizer->json.at("model").at("type"), "BPE");
    EXPECT_EQ(h.tokenizer->json.at("model").at("vocab").at("\u2581ab"), 7);
    ASSERT_TRUE(h.tokenizer_config);
    EXPECT_EQ(h.tokenizer_config->path, fixture() + "/tokenizer_config.json");
    ASSERT_TRUE(h.chat_template);
    EXPECT_EQ(h.chat_template->text.rfind("{{ bos_token }}", 0), 0u);
    EXPECT_EQ(h.chat_template_text(), h.chat_template->text);
    EXPECT_TRUE(h.tokenizer_model_path.empty());

    EXPECT_FALSE(h.checkpoint.sharded());
    EXPECT_EQ(h.checkpoint.tensors().size(), 4u);
    const auto* emb = h.checkpoint.find("model.language_model.embed_tokens.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->type, DType::BF16);
    EXPECT_EQ(emb->shape, (std::vector<uint64_t>{8, 4}));
    const auto* scalar = h.checkpoint.find("model.language_model.layers.0.layer_scalar");
    ASSERT_NE(scalar, nullptr);
    EXPECT_EQ(view_bytes(*scalar), bytes_of<uint16_t>({0x3e80}));  // 0.25 in bf16
    EXPECT_EQ(h.checkpoint.files()[0].header_metadata().at("format"), "pt");
}

TEST(HfFolder, OptionalFilesMayBeAbsent) {
    const auto dir = copy_fixture("hf_minimal");
    for (const char* f : {"generation_config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json",
                          "chat_template.jinja"})
        fs::remove(dir + "/" + f);
    write_text(dir + "/preprocessor_config.json", R"({"feature_size": 128, "sampling_rate": 16000})");
    write_text(dir + "/tokenizer.model", "not really sentencepiece");
    const auto h = HfFolder::open(dir);
    EXPECT_FALSE(h.generation_config);
    EXPECT_FALSE(h.processor_config);
    ASSERT_TRUE(h.preprocessor_config);
    EXPECT_EQ(h.preprocessor_config->json.at("feature_size"), 128);
    EXPECT_FALSE(h.tokenizer);
    EXPECT_FALSE(h.tokenizer_config);
    EXPECT_FALSE(h.chat_template);
    EXPECT_FALSE(h.chat_template_text());
    EXPECT_EQ(h.tokenizer_model_path, dir + "/tokenizer.model");
}

TEST(HfFolder, ChatTemplateFromTokenizerConfig) {
    const auto dir = copy_fixture("hf_tmpl");
    fs::remove(dir + "/chat_template.jinja");
    write_text(dir + "/tokenizer_config.json", R"({"chat_template": "{{ messages }}"})");
    EXPECT_EQ(HfFolder::open(dir).chat_template_text(), "{{ messages }}");
}

TEST(HfFolder, MissingConfigOrWeights) {
    const auto dir = copy_fixture("hf_missing");
    fs::remove(dir + "/config.json");
    EXPECT_FALSE(HfFolder::looks_like_hf_folder(dir));
    expect_contains(open_error(dir), {"config.json"});

    const auto dir2 = copy_fixture("hf_noweights");
    fs::remove(dir2 + "/model.safetensors");
    EXPECT_FALSE(HfFolder::looks_like_hf_folder(dir2));
    expect_contains(open_error(dir2), {"model.safetensors"});

    EXPECT_FALSE(HfFolder::looks_like_hf_folder(dir2 + "/nonexistent"));
    EXPECT_FALSE(HfFolder::looks_like_hf_folder(fixture() + "/config.json"));
    expect_contains(open_error(fixture() + "/config.json"), {"not a folder"});
}

TEST(HfFolder, MalformedJsonNamesFileAndLine) {
    const auto dir = copy_fixture("hf_badjson");
    write_text(dir + "/config.json", "{\n  \"model_type\": \"gemma4\",\n  \"text_config\": {\n    \"hidden_size\": 4,,\n  }\n}\n");
    std::string m;
    try {
        HfFolder::open(dir);
        ADD_FAILURE() << "accepted";
    } catch (const FormatError& e) {
        m = e.what();
    }
    expect_contains(m, {dir + "/config.json", "invalid JSON", "line 4", "column", "byte"});

    const auto dir2 = copy_fixture("hf_badjson2");
    write_text(dir2 + "/generation_config.json", "{\"top_k\": 64");
    expect_contains(open_error(dir2), {"generation_config.json", "invalid JSON", "line 1"});

    const auto dir3 = copy_fixture("hf_badjson3");
    write_text(dir3 + "/tokenizer_config.json", "[1, 2]");
    expect_contains(open_error(dir3), {"tokenizer_config.json", "JSON array", "expected an object"});

    const auto dir4 = copy_fixture("hf_badjson4");
    write_text(dir4 + "/processor_config.json", "");
    expect_contains(open_error(dir4), {"processor_config.json", "empty"});

    const auto dir5 = copy_fixture("hf_badjson5");
    write_text(dir5 + "/tokenizer.json", "{\"model\": \"\xc3\x28\"}");
    expect_contains(open_error(dir5), {"tokenizer.json", "invalid JSON"});
}

TEST(HfFolder, FilesOverTheSizeLimitAreRefusedBeforeParsing) {
    // Sparse files: nothing is written or read, the size check comes first.
    const auto dir = copy_fixture("hf_big");
    fs::resize_file(dir + "/generation_config.json", kMaxJsonFileBytes + 1);
    expect_contains(open_error(dir), {"generation_config.json", "64 MiB"});

    const auto dir2 = copy_fixture("hf_bigtok");
    fs::resize_file(dir2 + "/tokenizer.json", kMaxJsonFileBytes + 1);  // allowed size for tokenizer.json ...
    expect_contains(open_error(dir2), {"tokenizer.json", "invalid JSON"});  // ... so it is parsed (and fails)
    fs::resize_file(dir2 + "/tokenizer.json", kMaxTokenizerJsonBytes + 1);
    expect_contains(open_error(dir2), {"tokenizer.json", "256 MiB"});

    const auto dir3 = copy_fixture("hf_bigtmpl");
    fs::resize_file(dir3 + "/chat_template.jinja", kMaxTextFileBytes + 1);
    expect_contains(open_error(dir3), {"chat_template.jinja", "16 MiB"});
}

TEST(HfFolder, ADirectoryWhereAFileShouldBe) {
    const auto dir = copy_fixture("hf_dir");
    fs::remove(dir + "/tokenizer.json");
    fs::create_directories(dir + "/tokenizer.json");
    expect_contains(open_error(dir), {"tokenizer.json"});
}

TEST(HfFolder, ShardedWeights) {
    const auto dir = copy_fixture("hf_sharded");
    fs::remove(dir + "/model.safetensors");
    write_safetensors(dir + "/model-00001-of-00001.safetensors", {from_bytes("x", DType::U8, {1}, {3})});
    write_text(dir + "/model.safetensors.index.json", R"({"weight_map":{"x":"model-00001-of-00001.safetensors"}})");
    EXPECT_TRUE(HfFolder::looks_like_hf_folder(dir));
    const auto h = HfFolder::open(dir);
    EXPECT_TRUE(h.checkpoint.sharded());
    EXPECT_EQ(h.checkpoint.find("x")->data[0], 3);
}

TEST(HfFolder, ReadJsonFileDirectly) {
    const auto dir = scratch_dir("hf_readjson");
    write_text(dir + "/a.json", "[1,2,3]");
    EXPECT_EQ(read_json_file(dir + "/a.json", 100, false), nlohmann::json::array({1, 2, 3}));
    EXPECT_THROW(read_json_file(dir + "/a.json", 100, true), FormatError);
    EXPECT_THROW(read_json_file(dir + "/a.json", 6, false), FormatError);
    EXPECT_THROW(read_json_file(dir + "/missing.json", 100), Error);
    write_text(dir + "/bom.json", "\xEF\xBB\xBF{\"a\": 1}");
    EXPECT_EQ(read_json_file(dir + "/bom.json", 100).at("a"), 1);
    write_text(dir + "/t.txt", "hello");
    EXPECT_EQ(read_text_file(dir + "/t.txt", 5), "hello");
    EXPECT_THROW(read_text_file(dir + "/t.txt", 4), FormatError);
}

}  // namespace
}  // namespace gd::test
