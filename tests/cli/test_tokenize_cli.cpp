// gemmadesk-cli tokenize as scripts use it: --json prints exactly {"ids":[...]}, on a test model made
// by make-test-model (whose vocabulary the transformers goldens cover) and on llama.cpp's tiny-e2b.gguf
// (against the ids llama.cpp gives, tests/data/llamacpp/tokenizer.json).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace gd {
namespace {

using json = nlohmann::json;

json load_json(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return json::parse(ss.str());
}

// Runs `tokenize --json` on `text` (passed through a file, so any byte survives the shell); stderr is
// dropped so the output must be the JSON object alone.
std::vector<int32_t> tokenize(const std::string& model, const std::string& text, const std::string& flags,
                              const std::string& dir) {
    const std::string file = dir + "/text.txt";
    std::ofstream(file, std::ios::binary) << text;
    std::string out;
    const int rc = test::run_command(test::cli_path() + " tokenize --json " + flags + " --model " + model + " --file " +
                                         file + " 2>/dev/null",
                                     &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.back(), '\n');
    const json j = json::parse(out);
    EXPECT_EQ(j.size(), 1u) << out;
    return j.at("ids").get<std::vector<int32_t>>();
}

TEST(TokenizeCli, TestModelGivesTransformersIds) {
    const std::string dir = test::scratch_dir("cli_tokenize");
    std::string out;
    ASSERT_EQ(test::run_command(test::cli_path() + " make-test-model --variant e2b --out " + dir + "/m.gguf", &out), 0) << out;
    ASSERT_EQ(test::run_command(test::cli_path() + " make-test-model --variant e2b --format safetensors --out " + dir + "/hf", &out), 0)
        << out;
    const json gold = load_json(test::data_dir() + "/tokenizer/goldens_tiny.json");
    for (const std::string& model : {dir + "/m.gguf", dir + "/hf"}) {
        int checked = 0;
        for (const json& c : gold["cases"]) {
            const std::string text = c["text"];
            if (text.size() > 3000) continue;  // the long ones are covered by the library tests
            const auto want = c["ids"].get<std::vector<int32_t>>();
            EXPECT_EQ(tokenize(model, text, "", dir), want) << c["name"].get<std::string>() << " " << model;
            ++checked;
        }
        EXPECT_GT(checked, 40);
        // --bos puts BOS (id 2) first; --no-special spells special tokens out.
        EXPECT_EQ(tokenize(model, "<|turn>user", "--bos", dir), tokenize(model, "<bos><|turn>user", "", dir));
        EXPECT_EQ(tokenize(model, "<bos>", "--bos", dir).size(), 2u);
        EXPECT_GT(tokenize(model, "<bos>", "--no-special", dir).size(), 1u);
    }
    // The argument form, and the text form with pieces.
    out.clear();  // run_command appends
    ASSERT_EQ(test::run_command(test::cli_path() + " tokenize --model " + dir + "/m.gguf --json '<bos>Hi'", &out), 0);
    EXPECT_EQ(out, "{\"ids\":[2,309,325]}\n");  // <bos> H i
    out.clear();
    ASSERT_EQ(test::run_command(test::cli_path() + " tokenize --model " + dir + "/m.gguf --bos 'Hi there'", &out), 0);
    EXPECT_NE(out.find("\"<bos>\""), std::string::npos) << out;
    EXPECT_NE(out.find("tokens (GGUF"), std::string::npos) << out;
}

// llama.cpp's own ids for its tiny model. llama.cpp splits text on newline runs before BPE and
// transformers does not; where they differ transformers is right, and none of these cases differs.
TEST(TokenizeCli, LlamaCppTinyModelGivesLlamaCppIds) {
    const std::string fixtures = test::data_dir() + "/llamacpp";  // copied from ../shared/fixtures/llamacpp
    const std::string model = test::data_dir() + "/llamacpp/tiny-e2b.gguf";
    const std::string dir = test::scratch_dir("cli_tokenize_llamacpp");
    const json gold = load_json(fixtures + "/tokenizer.json");
    ASSERT_GT(gold["cases"].size(), 40u);
    for (const json& c : gold["cases"]) {
        const std::string text = c["text"];
        EXPECT_EQ(tokenize(model, text, "", dir), c["ids"].get<std::vector<int32_t>>()) << text;
        EXPECT_EQ(tokenize(model, text, "--bos", dir), c["ids_add_special"].get<std::vector<int32_t>>()) << text;
        // Without special-token parsing llama.cpp also spells out the user-defined tokens (<|channel>,
        // <|tool_call>, <|"|>, ...); transformers, and so the engine, still keeps those whole.
        if (text.find("<|channel>") == std::string::npos && text.find("<channel|>") == std::string::npos &&
            text.find("tool_call") == std::string::npos && text.find("tool_response") == std::string::npos &&
            text.find("<|\"|>") == std::string::npos) {
            EXPECT_EQ(tokenize(model, text, "--no-special", dir), c["ids_no_parse_special"].get<std::vector<int32_t>>()) << text;
        }
    }
}

TEST(TokenizeCli, ErrorsAreClear) {
    const std::string dir = test::scratch_dir("cli_tokenize_errors");
    std::string out;
    EXPECT_EQ(test::run_command(test::cli_path() + " tokenize --model /nonexistent.gguf x", &out), 1);
    EXPECT_NE(out.find("/nonexistent.gguf does not exist"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(test::run_command(test::cli_path() + " tokenize x", &out), 2);
    EXPECT_NE(out.find("usage"), std::string::npos) << out;
    // An HF folder without any tokenizer file.
    ASSERT_EQ(test::run_command(test::cli_path() + " make-test-model --variant e2b --format safetensors --out " + dir + "/hf", &out), 0);
    std::filesystem::remove(dir + "/hf/tokenizer.json");
    out.clear();
    EXPECT_EQ(test::run_command(test::cli_path() + " tokenize --model " + dir + "/hf --json x", &out), 1);
    EXPECT_NE(out.find("error: "), std::string::npos) << out;
    EXPECT_NE(out.find("no tokenizer.json or tokenizer.model"), std::string::npos) << out;
}

}  // namespace
}  // namespace gd
