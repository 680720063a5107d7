// gemmadesk-cli as a user runs it: make-test-model, then inspect in text and JSON, and its errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/tensor_names.h"
#include "model/variants.h"
#include "support/test_support.h"

namespace gd {
namespace {

int cli(const std::string& args, std::string* out) { return test::run_command(test::cli_path() + " " + args, out); }

TEST(Cli, MakeTestModelThenInspectJson) {
    const std::string dir = test::scratch_dir("cli_inspect");
    std::string out;
    ASSERT_EQ(cli("make-test-model --variant 26b-a4b --dtype q8_0 --seed 3 --out " + dir + "/m.gguf", &out), 0) << out;
    EXPECT_NE(out.find("mmproj-m.gguf"), std::string::npos) << out;
    std::string js;
    ASSERT_EQ(test::run_command(test::cli_path() + " inspect --json " + dir + "/m.gguf 2>/dev/null", &js), 0) << js;
    const auto j = nlohmann::json::parse(js);
    EXPECT_EQ(j["variant"], "26b-a4b");
    EXPECT_EQ(j["tiny_test_model"], true);
    EXPECT_EQ(j["format"], "GGUF");
    EXPECT_EQ(j["modalities"]["image"], true);
    EXPECT_EQ(j["modalities"]["audio"], false);
    const ParamCounts want = count_params(preset_config(Variant::A26B, ModelSize::Tiny));
    EXPECT_EQ(j["parameters"]["text"].get<uint64_t>(), want.text());
    EXPECT_EQ(j["parameters"]["vision"].get<uint64_t>(), want.vision());
    EXPECT_EQ(j["parameters"]["total"].get<uint64_t>(), want.total());
    EXPECT_TRUE(j["tensor_types"].contains("q8_0"));
    EXPECT_EQ(j["files"].size(), 2u);
    // The memory as stored is what the files hold beyond their headers and metadata.
    uint64_t files = 0;
    for (const auto& f : j["files"]) files += f["bytes"].get<uint64_t>();
    const uint64_t stored = j["memory_bytes"]["total"].get<uint64_t>();
    EXPECT_LT(stored, files);
    EXPECT_GT(stored, files - 64 * 1024) << "more than 64 KiB of headers in two tiny GGUF files?";
}

TEST(Cli, InspectTextNamesVariantAndParts) {
    std::string out;
    ASSERT_EQ(cli("inspect " + test::data_dir() + "/hf_reference/e2b_tiny_hf", &out), 0) << out;
    for (const char* s : {"safetensors", "e2b (tiny test model)", "per-layer embedding table", "audio tower", "text, image, audio"})
        EXPECT_NE(out.find(s), std::string::npos) << s << "\n" << out;
}

TEST(Cli, ErrorsAreInPlainWordsWithExitCodes) {
    std::string out;
    EXPECT_EQ(cli("inspect /nonexistent/model.gguf", &out), 1);
    EXPECT_NE(out.find("/nonexistent/model.gguf does not exist"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("inspect", &out), 2);
    EXPECT_NE(out.find("usage"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("make-test-model --variant e9b", &out), 2);
    EXPECT_NE(out.find("unknown variant 'e9b'"), std::string::npos) << out;
    out.clear();
    const std::string dir = test::scratch_dir("cli_errors");
    EXPECT_EQ(cli("make-test-model --variant e2b --format safetensors --dtype q4_k --out " + dir + "/x", &out), 1);
    EXPECT_NE(out.find("f32, f16 or bf16"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("no-such-command", &out), 2);
    EXPECT_NE(out.find("unknown command"), std::string::npos) << out;
    // Several paths: the good one is reported, the bad one named, the exit status says something failed.
    out.clear();
    EXPECT_EQ(cli("inspect " + test::data_dir() + "/llamacpp/tiny-e2b.gguf /nonexistent.gguf", &out), 1);
    EXPECT_NE(out.find("structure"), std::string::npos) << out;
    EXPECT_NE(out.find("/nonexistent.gguf does not exist"), std::string::npos) << out;
}

TEST(Cli, DevicesAnswersWithOrWithoutAGpu) {
    std::string out;
    EXPECT_EQ(cli("devices", &out), 0) << out;
    EXPECT_NE(out.find("CUDA"), std::string::npos) << out;
}

}  // namespace
}  // namespace gd
