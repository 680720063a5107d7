// gemmadesk-cli plan and quantize as a user runs them.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace gd {
namespace {

int cli(const std::string& args, std::string* out) { return test::run_command(test::cli_path() + " " + args, out); }

// Synthetic machines: the recommendations (see tests/catalog/test_fit_plan.cpp for the figures).
TEST(PlanCli, RecommendationsForAGivenMachine) {
    std::string js;
    ASSERT_EQ(cli("plan --gpu-memory 8GiB --ram 8GiB --json 2>/dev/null", &js), 0) << js;
    const auto j = nlohmann::json::parse(js);
    EXPECT_TRUE(j["recommendations"].get<bool>());
    EXPECT_TRUE(j["machine"]["synthetic"].get<bool>());
    const auto& best = j["plans"][0];
    EXPECT_EQ(best["variant"], "e4b");
    EXPECT_EQ(best["weight_type"], "q8_0");
    EXPECT_EQ(best["device"], "gpu");
    EXPECT_EQ(best["gpu_layers"], 42);
    EXPECT_EQ(best["context"], 32768);
    EXPECT_EQ(j["plans"].size(), 12u);
    std::string text;
    ASSERT_EQ(cli("plan --gpu-memory 0 --ram 8GiB", &text), 0) << text;
    for (const char* s : {"best plan", "e4b q4_k", "KV cache", "per-layer embedding table", "planned cache types"})
        EXPECT_NE(text.find(s), std::string::npos) << s << "\n" << text;
}

TEST(PlanCli, ModelsOnDiskAndErrors) {
    const std::string model = test::tiny_model(Variant::E2B, true);
    std::string js;
    ASSERT_EQ(cli("plan --ram 4GiB --gpu-memory 0 --context 2048 --cache-type f16 --json " + model + " 2>/dev/null", &js), 0) << js;
    const auto j = nlohmann::json::parse(js);
    EXPECT_FALSE(j["recommendations"].get<bool>());
    EXPECT_EQ(j["plans"][0]["context"], 2048);
    EXPECT_EQ(j["plans"][0]["cache_type"], "f16");
    EXPECT_FALSE(j["plans"][0]["cache_type_implemented"].get<bool>());
    std::string out;
    EXPECT_EQ(cli("plan --cache-type q4", &out), 2);
    EXPECT_NE(out.find("--cache-type is f32, f16 or q8_0"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("plan --ram 1GiB --gpu-memory 0", &out), 1);
    EXPECT_NE(out.find("nothing fits"), std::string::npos) << out;
}

// quantize an f32 tiny model to q8_0, then score both it and make-test-model's own q8_0: the same
// log-probabilities, digit for digit.
TEST(QuantizeCli, SameScoresAsTheWriter) {
    const std::string dir = test::scratch_dir("cli_quantize");
    std::string out;
    ASSERT_EQ(cli("make-test-model --variant e4b --seed 5 --out " + dir + "/f32/m.gguf", &out), 0) << out;
    ASSERT_EQ(cli("make-test-model --variant e4b --seed 5 --dtype q8_0 --out " + dir + "/direct/m.gguf", &out), 0) << out;
    ASSERT_EQ(cli("quantize " + dir + "/f32/m.gguf " + dir + "/q/m-q8_0.gguf --type q8_0 --threads 2", &out), 0) << out;
    EXPECT_NE(out.find("mmproj-m-q8_0.gguf"), std::string::npos) << out;
    std::string a, b;
    const std::string args = " --ids 2,50,51,52,99,100,7 --top-logprobs 5 --threads 1 --json 2>/dev/null";
    ASSERT_EQ(cli("score --model " + dir + "/q/m-q8_0.gguf" + args, &a), 0) << a;
    ASSERT_EQ(cli("score --model " + dir + "/direct/m.gguf" + args, &b), 0) << b;
    EXPECT_EQ(nlohmann::json::parse(a)["positions"], nlohmann::json::parse(b)["positions"]);
    out.clear();
    EXPECT_EQ(cli("quantize " + dir + "/f32/m.gguf", &out), 2);
    EXPECT_NE(out.find("give the input and the output file"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("quantize " + dir + "/f32/m.gguf " + dir + "/x.gguf --type q9", &out), 2);
    EXPECT_NE(out.find("cannot quantize to 'q9'"), std::string::npos) << out;
}

}  // namespace
}  // namespace gd
