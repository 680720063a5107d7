// The engine API on real tiny models: chat turns reuse the KV cache exactly, seeds reproduce,
// cancellation from another thread stops within one token, loading reports progress and can be
// cancelled, and bad input gives clear errors.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "engine/chat_session.h"
#include "engine/engine.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"

namespace gd::test {
namespace {

std::string tiny_folder(Variant v) { return tiny_model(v, false); }

std::shared_ptr<Model> load(Variant v = Variant::E2B, int64_t context = 256) {
    LoadOptions o;
    o.paths = {tiny_folder(v)};
    o.threads = 2;
    o.context = context;
    o.batch = 64;
    return Model::load(o);
}

GenerateOptions greedy(int64_t n) {
    GenerateOptions g;
    g.sampling.temperature = 0;
    g.max_tokens = n;
    g.stop_ids = {-1};
    return g;
}

TEST(Session, SecondChatTurnPrefillsOnlyItsNewTokensAndMatchesAFreshSession) {
    auto model = load(Variant::A26B);
    ChatOptions o;
    o.generate = greedy(12);
    {
        // A random model never says <turn|>: make its 4th greedy token the end of its turn.
        ChatSession dry(model, o);
        o.generate.stop_ids = {dry.send("Hello there").result.ids.at(3)};
    }
    ChatSession chat(model, o);
    const ChatReply first = chat.send("Hello there");
    ASSERT_EQ(first.result.finish, FinishReason::Stop);
    ASSERT_EQ(first.result.ids.size(), 3u);
    EXPECT_EQ(first.result.stats.prefilled_tokens, first.result.stats.prompt_tokens);
    const int64_t cached = first.result.stats.prompt_tokens + 3;  // the prompt and the generated tokens
    const ChatReply second = chat.send("And then?");
    // Only the turn end and the new user turn are computed.
    EXPECT_EQ(second.result.stats.prefilled_tokens, second.result.stats.prompt_tokens - cached);
    // The reused cache gives what a fresh computation of the whole conversation gives.
    std::vector<int32_t> prompt2 = chat.session().history();
    prompt2.resize(static_cast<size_t>(second.result.stats.prompt_tokens));
    const GenerationResult redo = Session(model).generate(prompt2, o.generate);
    EXPECT_EQ(redo.ids, second.result.ids);
    EXPECT_EQ(redo.stats.prefilled_tokens, redo.stats.prompt_tokens);
}

TEST(Session, TheSameSeedGivesTheSameTokens) {
    auto model = load();
    GenerateOptions g;
    g.sampling.temperature = 1.0f;
    g.sampling.top_k = 0;
    g.sampling.top_p = 1.0f;
    g.max_tokens = 24;
    g.stop_ids = {-1};
    const std::vector<int32_t> prompt = {2, 372, 442, 390};
    g.sampling.seed = 7;
    const auto a = Session(model).generate(prompt, g).ids;
    const auto b = Session(model).generate(prompt, g).ids;
    g.sampling.seed = 8;
    const auto c = Session(model).generate(prompt, g).ids;
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(a.size(), 24u);
}

TEST(Session, CancelFromAnotherThreadStopsWithinOneToken) {
    auto model = load();
    Session s(model);
    std::atomic<int> after_cancel{0};
    std::atomic<bool> cancelled{false};
    const GenerationResult r = s.generate({2, 372}, greedy(200), [&](const TokenEvent&) {
        if (cancelled) ++after_cancel;
        if (!cancelled && s.history().size() >= 6) {
            std::thread t([&] { s.cancel(); });
            t.join();
            cancelled = true;
        }
        return true;
    });
    EXPECT_EQ(r.finish, FinishReason::Cancelled);
    EXPECT_LE(after_cancel.load(), 1);
    EXPECT_LT(r.ids.size(), 12u);
}

TEST(Session, StreamedTextAddsUpToTheDecodedText) {
    auto model = load();
    std::string streamed;
    const GenerationResult r = Session(model).generate({2, 372, 442}, greedy(20), [&](const TokenEvent& e) {
        streamed += e.text;
        return true;
    });
    EXPECT_EQ(streamed, r.text);
    EXPECT_EQ(r.text, model->tokenizer().decode(r.ids));
}

TEST(Session, ContextLimitsAreClearErrorsOrAFinishReason) {
    auto model = load(Variant::E2B, 32);
    Session s(model);
    std::vector<int32_t> long_prompt(40, 300);
    try {
        s.generate(long_prompt, greedy(4));
        FAIL() << "a prompt longer than the context must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("context length 32"), std::string::npos) << e.what();
    }
    const GenerationResult r = s.generate(std::vector<int32_t>(28, 300), greedy(100));
    EXPECT_EQ(r.finish, FinishReason::ContextFull);
    EXPECT_EQ(r.ids.size(), 5u);  // 28 + 4 fed = 32; the 5th token needs no slot
    try {
        Session(model).generate({2, 999999}, greedy(1));
        FAIL() << "an id out of range must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("999999"), std::string::npos) << e.what();
    }
}

TEST(Model, LoadingReportsProgressAndCanBeCancelled) {
    LoadOptions o;
    o.paths = {tiny_folder(Variant::E2B)};
    double last = -1;
    int calls = 0;
    auto m = Model::load(o, [&](double f, const std::string&) {
        EXPECT_GE(f, last);
        last = f;
        ++calls;
        return true;
    });
    EXPECT_EQ(last, 1.0);
    EXPECT_GT(calls, 3);
    EXPECT_THROW(Model::load(o, [&](double f, const std::string&) { return f < 0.5; }), Cancelled);
}

// Overwrites the first element of a tensor in a safetensors file with `value`.
void poke_f32(const std::string& file, const std::string& tensor, float value) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    uint64_t n = 0;
    f.read(reinterpret_cast<char*>(&n), 8);
    std::string header(n, '\0');
    f.read(header.data(), static_cast<std::streamsize>(n));
    const auto j = nlohmann::json::parse(header);
    const uint64_t off = j.at(tensor).at("data_offsets").at(0).get<uint64_t>();
    f.seekp(static_cast<std::streamoff>(8 + n + off));
    f.write(reinterpret_cast<const char*>(&value), 4);
}

TEST(Model, NonFiniteWeightsAreClearErrors) {
    const std::string dir = scratch_dir("nan-model");
    std::filesystem::copy(tiny_folder(Variant::E2B), dir, std::filesystem::copy_options::recursive |
                                                              std::filesystem::copy_options::overwrite_existing);
    // A norm weight: found when loading.
    poke_f32(dir + "/model.safetensors", "model.language_model.layers.2.post_attention_layernorm.weight", NAN);
    LoadOptions o;
    o.paths = {dir};
    try {
        Model::load(o);
        FAIL() << "NaN in a norm weight must fail the load";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("blk.2.post_attention_norm.weight"), std::string::npos) << e.what();
    }
    // A matrix (too large to scan at load): found when it reaches the logits.
    poke_f32(dir + "/model.safetensors", "model.language_model.layers.2.post_attention_layernorm.weight", 1.0f);
    poke_f32(dir + "/model.safetensors", "model.language_model.layers.1.mlp.down_proj.weight", INFINITY);
    auto m = Model::load(o);
    try {
        Session(m).generate({2, 372, 442}, greedy(2));
        FAIL() << "Inf in a matrix must fail the generation";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
    }
}

TEST(Model, MissingAndMisshapedTensorsAreClearErrors) {
    const std::string dir = scratch_dir("missing-model");
    std::filesystem::copy(tiny_folder(Variant::E2B), dir, std::filesystem::copy_options::recursive |
                                                              std::filesystem::copy_options::overwrite_existing);
    // Rename a tensor in the header (same length, so offsets stay valid): it is then missing.
    std::fstream f(dir + "/model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    uint64_t n = 0;
    f.read(reinterpret_cast<char*>(&n), 8);
    std::string header(n, '\0');
    f.read(header.data(), static_cast<std::streamsize>(n));
    const std::string name = "layers.3.self_attn.o_proj.weight";
    const size_t at = header.find(name);
    ASSERT_NE(at, std::string::npos);
    header.replace(at, name.size(), "layers.3.self_attn.x_proj.weight");
    f.seekp(8);
    f.write(header.data(), static_cast<std::streamsize>(n));
    f.close();
    LoadOptions o;
    o.paths = {dir};
    try {
        Model::load(o);
        FAIL() << "a missing tensor must fail";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("o_proj"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gd::test
