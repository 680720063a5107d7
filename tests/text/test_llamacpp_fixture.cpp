// The llama.cpp goldens (tests/data/llamacpp, copied from ../shared/fixtures/llamacpp/: an
// independent second check, see that folder's README): a tiny random E2B-structured GGUF, llama.cpp's intermediate tensors for one prompt, and
// its top logits for five prompts plus 32 greedy steps.
//
// How close to expect (fixture README): ggml evaluates GELU through an f16 lookup table, so an exact
// GELU moves these logits by a few 1e-2 (max about 0.04-0.06 on this sharp model) while the layers
// before the first MLP agree to about 1e-6. Greedy ids are compared for the steps the fixture marks
// stable (top-2 margin >= 0.1).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "sampling/sampler.h"
#include "support/test_support.h"
#include "text/decoder_support.h"

namespace gd::test {
namespace {

// Copied into the repository (tests/data/llamacpp) from ../shared/fixtures/llamacpp.
std::string fixture(const std::string& name) { return data_dir() + "/llamacpp/" + name; }

nlohmann::json read_json(const std::string& path) {
    std::ifstream f(path);
    return nlohmann::json::parse(f);
}

// Teacher forcing drifts by the GELU-table difference only: bound 0.1 on logits of |x| <= 30, about
// twice the README's observed maximum.
constexpr double kLogitBound = 0.1;

TEST(LlamaCppFixture, IntermediateTensorsAgree) {
    const auto trace = read_json(fixture("trace_tiny-e2b.json"));
    auto model = load_decoder(fixture("tiny-e2b.gguf"));
    const auto got = run_all(*model->decoder, trace.at("prompt_ids").get<std::vector<int32_t>>());
    auto golden = [&](const std::string& n) { return trace.at("tensors").at(n).at("data").get<std::vector<float>>(); };
    // Before any GELU: the embedding lookup and the first attention block.
    EXPECT_LE(relative_error(got.at("inp_scaled"), golden("inp_scaled")), 1e-6);
    EXPECT_LE(relative_error(got.at("attn_out-0"), golden("attn_out-0")), 1e-5);
    // After GELUs: within the f16-table error, growing through the layers.
    for (int i = 0; i < 10; ++i) {
        const std::string n = "l_out-" + std::to_string(i);
        EXPECT_LE(relative_error(got.at(n), golden(n)), 1e-2) << n;
    }
    EXPECT_LE(relative_error(got.at("result_norm"), golden("result_norm")), 1e-2);
}

TEST(LlamaCppFixture, TeacherForcedLogitsAndStableGreedyStepsAgree) {
    const auto text = read_json(fixture("text_tiny-e2b.json"));
    auto model = load_decoder(fixture("tiny-e2b.gguf"));
    for (const auto& p : text.at("prompts")) {
        std::vector<int32_t> ids = p.at("prompt_ids").get<std::vector<int32_t>>();
        const auto gen = p.at("generated_ids").get<std::vector<int32_t>>();
        const size_t n_prompt = ids.size();
        ids.insert(ids.end(), gen.begin(), gen.end());
        std::vector<std::vector<float>> logits;
        KvCache cache = model->decoder->make_cache(1024, 512);
        model->decoder->forward(ids, cache, true, [&](int64_t, const float* row, int64_t n) { logits.emplace_back(row, row + n); });
        const std::string name = p.at("name").get<std::string>();
        // llama.cpp embeds a generated media placeholder id (<|image|>, <|audio|>, <|video|>) like any
        // token; transformers, which we follow, embeds it as the pad row. Rows from there on differ.
        const TokenIds& tk = model->files.config().tokens;
        size_t comparable = ids.size();
        for (size_t i = 0; i < ids.size(); ++i)
            if (ids[i] == tk.image || ids[i] == tk.audio || ids[i] == tk.video) {
                comparable = i;
                break;
            }
        double worst = 0;
        // Prefill positions: the top-5 ids and logits.
        const auto& pre = p.at("prefill");
        for (size_t i = 0; i < std::min(n_prompt, comparable); ++i) {
            const auto top_ids = pre.at("top_ids").at(i).get<std::vector<int32_t>>();
            const auto top_logits = pre.at("top_logits").at(i).get<std::vector<double>>();
            for (size_t j = 0; j < top_ids.size(); ++j)
                worst = std::max(worst, std::fabs(logits[i][static_cast<size_t>(top_ids[j])] - top_logits[j]));
        }
        // Generated steps: top-10 logits, and the greedy id for the stable steps.
        const auto& steps = p.at("steps");
        const int stable = p.at("n_stable_steps").get<int>();
        for (size_t s = 0; s < steps.size() && n_prompt - 1 + s < comparable; ++s) {
            const auto& row = logits[n_prompt - 1 + s];
            const auto top_ids = steps[s].at("top_ids").get<std::vector<int32_t>>();
            const auto top_logits = steps[s].at("top_logits").get<std::vector<double>>();
            for (size_t j = 0; j < top_ids.size(); ++j)
                worst = std::max(worst, std::fabs(row[static_cast<size_t>(top_ids[j])] - top_logits[j]));
            if (static_cast<int>(s) < stable) {
                EXPECT_EQ(argmax(row), gen[s]) << name << " step " << s;
            }
        }
        EXPECT_LE(worst, kLogitBound) << name;
        if (std::getenv("GD_PRINT_ERRORS")) std::printf("%s: worst logit difference %.4f\n", name.c_str(), worst);
    }
}

}  // namespace
}  // namespace gd::test
