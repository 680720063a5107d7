// The CLI contract of generate and score (issue 3 §5), on tiny test models made by make-test-model
// with the references' seed, in both formats: JSON on stdout exactly as documented, greedy tokens and
// log-probabilities as transformers computes them (tests/data/reference/decoder_cases.json and the
// reference logits), --prompt/--chat/--ids prompts, and clear errors with exit codes.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "support/test_support.h"

namespace gd {
namespace {

using json = nlohmann::json;

const json& cases() {
    static const json j = [] {
        std::ifstream f(test::data_dir() + "/reference/decoder_cases.json");
        return json::parse(f);
    }();
    return j;
}

std::string tiny_model(const std::string& variant, bool gguf) {
    static std::map<std::string, std::string> made;
    const std::string key = variant + (gguf ? "-gguf" : "-st");
    if (made.count(key)) return made[key];
    const std::string dir = test::scratch_dir("cli-" + key);
    const std::string out = gguf ? dir + "/model.gguf" : dir;
    std::string log;
    EXPECT_EQ(test::run_command(test::cli_path() + " make-test-model --variant " + variant + " --seed 1 --format " +
                                    (gguf ? "gguf" : "safetensors") + " --out " + out,
                                &log),
              0)
        << log;
    return made[key] = out;
}

json run_json(const std::string& args) {
    std::string out;
    const int rc = test::run_command(test::cli_path() + " " + args + " 2>/dev/null", &out);
    EXPECT_EQ(rc, 0) << args << "\n" << out;
    return json::parse(out);
}

std::string ids_arg(const std::vector<int32_t>& ids) {
    std::string s;
    for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
    return s;
}

class CliContract : public ::testing::TestWithParam<bool> {};  // GGUF or safetensors folder

TEST_P(CliContract, GenerateJsonGivesTransformersGreedyTokens) {
    for (const json& c : cases().at("cases")) {
        if (c.at("prompt") != "long") continue;
        const auto model = tiny_model(c.at("variant"), GetParam());
        const auto ids = c.at("input_ids").get<std::vector<int32_t>>();
        const json j = run_json("generate --model " + model + " --ids " + ids_arg(ids) +
                                " --temperature 0 --max-tokens 8 --top-logprobs 3 --json");
        EXPECT_EQ(j.at("prompt_ids").get<std::vector<int32_t>>(), ids);
        const auto want = c.at("greedy").at("ids").get<std::vector<int32_t>>();
        ASSERT_EQ(j.at("steps").size(), 8u);
        std::string text;
        for (size_t s = 0; s < 8; ++s) {
            const json& step = j.at("steps").at(s);
            EXPECT_EQ(step.at("id").get<int32_t>(), want[s]) << c.at("variant") << " step " << s;
            ASSERT_EQ(step.at("top").size(), 3u);
            // Greedy: the chosen token is the most likely one, and its logprob is the top entry's.
            EXPECT_EQ(step.at("top").at(0).at(0).get<int32_t>(), step.at("id").get<int32_t>());
            EXPECT_FLOAT_EQ(step.at("top").at(0).at(1).get<float>(), step.at("logprob").get<float>());
            EXPECT_LE(step.at("logprob").get<double>(), 0.0);
            text += step.at("text").get<std::string>();
        }
        EXPECT_EQ(j.at("text").get<std::string>(), text);
        EXPECT_TRUE(j.at("stats").contains("generated_tokens_per_second"));
        EXPECT_EQ(j.at("stats").at("prompt_tokens").get<int>(), static_cast<int>(ids.size()));
    }
}

TEST_P(CliContract, ScoreJsonGivesTheLogSoftmaxOfTheReferenceLogits) {
    const json& c = cases().at("cases").at(7);  // 31b long
    const auto model = tiny_model(c.at("variant"), GetParam());
    const auto ids = c.at("input_ids").get<std::vector<int32_t>>();
    const json j = run_json("score --model " + model + " --ids " + ids_arg(ids) + " --top-logprobs 4 --json");
    EXPECT_EQ(j.size(), 2u);
    EXPECT_EQ(j.at("ids").get<std::vector<int32_t>>(), ids);
    ASSERT_EQ(j.at("positions").size(), ids.size());
    const SafetensorsFile ref = SafetensorsFile::open(test::data_dir() + "/reference/" + c.at("file").get<std::string>());
    const TensorView* lv = ref.find("logits");
    ASSERT_NE(lv, nullptr);
    const size_t V = lv->shape[1];
    std::vector<float> logits(lv->elements());
    dequantize_row(lv->type, lv->data, logits.data(), lv->elements());
    // Bound: the logits' f32 tolerance of the decoder tests (3x the reference's own error, in units of
    // max|logit|) carries over to log-softmax values almost unchanged.
    const double tol = 3 * c.at("f32_error").at("logits").get<double>() * c.at("max_abs").at("logits").get<double>() * 2;
    for (size_t i = 0; i < ids.size(); ++i) {
        const float* row = logits.data() + i * V;
        double mx = row[0], sum = 0;
        for (size_t v = 0; v < V; ++v) mx = std::max<double>(mx, row[v]);
        for (size_t v = 0; v < V; ++v) sum += std::exp(row[v] - mx);
        const json& top = j.at("positions").at(i).at("top");
        ASSERT_EQ(top.size(), 4u);
        for (const json& e : top) {
            const double want = row[e.at(0).get<size_t>()] - mx - std::log(sum);
            EXPECT_NEAR(e.at(1).get<double>(), want, tol) << "position " << i;
        }
    }
}

TEST_P(CliContract, PromptAndChatBuildTheDocumentedPrompts) {
    const auto model = tiny_model("e2b", GetParam());
    const json tok = run_json("tokenize --model " + model + " --bos --json 'Hello world'");
    const json p = run_json("generate --model " + model + " --prompt 'Hello world' --max-tokens 1 --temperature 0 --json");
    EXPECT_EQ(p.at("prompt_ids"), tok.at("ids"));  // raw text after BOS
    const json chat_ids = run_json("tokenize --model " + model +
                                   " --json '<bos><|turn>user\nHi<turn|>\n<|turn>model\n'");
    const json c = run_json("generate --model " + model + " --chat Hi --max-tokens 1 --temperature 0 --json");
    EXPECT_EQ(c.at("prompt_ids"), chat_ids.at("ids"));
    // Same seed, same sampled text.
    const std::string sample = "generate --model " + model + " --prompt Hello --max-tokens 12 --temperature 1 --seed 5 --json";
    EXPECT_EQ(run_json(sample).at("steps"), run_json(sample).at("steps"));
}

TEST_P(CliContract, BadInputIsAClearErrorWithAnExitCode) {
    const auto model = tiny_model("e2b", GetParam());
    std::string out;
    EXPECT_EQ(test::run_command(test::cli_path() + " generate --model " + model + " --ids 2,99999 --json", &out), 1);
    EXPECT_NE(out.find("99999"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(test::run_command(test::cli_path() + " generate --model " + model + " --ids 2,x", &out), 2);
    out.clear();
    EXPECT_EQ(test::run_command(test::cli_path() + " generate --model " + model + " --prompt a --chat b", &out), 2);
    out.clear();
    EXPECT_EQ(test::run_command(test::cli_path() + " generate --model " + model + " --context 8 --ids 2,3,4,5,6,7,8,9,10,11", &out), 1);
    EXPECT_NE(out.find("context length"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(test::run_command(test::cli_path() + " score --model /nonexistent/model.gguf --ids 2", &out), 1);
    EXPECT_NE(out.find("/nonexistent/model.gguf"), std::string::npos) << out;
}

TEST_P(CliContract, BenchReportsSpeedsAndMemory) {
    const auto model = tiny_model("26b-a4b", GetParam());
    const json j = run_json("bench --model " + model + " -p 16 -n 4 --json");
    EXPECT_GT(j.at("prompt_tokens_per_second").get<double>(), 0);
    EXPECT_GT(j.at("gen_tokens_per_second").get<double>(), 0);
    EXPECT_GT(j.at("peak_rss_bytes").get<double>(), 0);
    EXPECT_GT(j.at("weight_bytes_per_token").get<double>(), 0);
}

// Every part of the benchmark on a model with both towers: each prompt length, the budgets, a clip,
// the image question, the ceilings and the roofline they give.
TEST_P(CliContract, BenchMeasuresEveryPartAndTheRoofline) {
    const auto model = tiny_model("e2b", GetParam());
    const json j = run_json("bench --model " + model +
                            " -p 16,40 -n 4 --images 70,140 --audio 2 --ttft-image 70 --ceilings --device cpu --json");
    ASSERT_EQ(j.at("prefill").size(), 2u);
    EXPECT_EQ(j.at("prefill")[1].at("tokens").get<int>(), 40);
    for (const json& p : j.at("prefill")) EXPECT_GT(p.at("tokens_per_second").get<double>(), 0);
    ASSERT_EQ(j.at("images").size(), 2u);
    EXPECT_EQ(j.at("images")[1].at("budget").get<int>(), 140);
    EXPECT_GT(j.at("images")[1].at("tokens").get<int>(), j.at("images")[0].at("tokens").get<int>());
    EXPECT_GT(j.at("images")[0].at("ms").get<double>(), 0);
    EXPECT_EQ(j.at("audio").at("tokens").get<int>(), 50) << "25 soft tokens per second of audio";
    EXPECT_GT(j.at("ttft_image").at("prompt_tokens").get<int>(), 50 + j.at("images")[0].at("tokens").get<int>());
    EXPECT_GT(j.at("ceilings").at("copy_gb_per_s").get<double>(), 0.1);
    EXPECT_GT(j.at("ceilings").at("bf16_tflops").get<double>(), 0);
    // roofline = copy bandwidth / bytes per token; fraction = decode speed / roofline.
    const double roof = j.at("ceilings").at("copy_gb_per_s").get<double>() * 1e9 / j.at("weight_bytes_per_token").get<double>();
    EXPECT_NEAR(j.at("roofline_tokens_per_second").get<double>(), roof, roof * 1e-9);
    EXPECT_NEAR(j.at("roofline_fraction").get<double>(), j.at("gen_tokens_per_second").get<double>() / roof, 1e-9);

    std::string out;  // a tower the model lacks is a clear error
    EXPECT_EQ(test::run_command(test::cli_path() + " bench --model " + tiny_model("31b", GetParam()) + " -p 8 -n 2 --audio 1", &out), 1);
    EXPECT_NE(out.find("no audio tower"), std::string::npos) << out;
}

std::string format_name(const ::testing::TestParamInfo<bool>& p) { return p.param ? "gguf" : "safetensors"; }

INSTANTIATE_TEST_SUITE_P(Formats, CliContract, ::testing::Bool(), format_name);

}  // namespace
}  // namespace gd
