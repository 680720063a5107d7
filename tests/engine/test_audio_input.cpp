// Audio through the engine API on real tiny models: Model::encode_audio (the 30 s piece rule, token
// counts, what is refused), the chat prompt around an audio clip (<|audio> + one placeholder per soft
// token + <audio|>, attended causally), and a conversation that keeps an earlier clip in its KV cache.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "audio/features/audio_pieces.h"
#include "audio/features/log_mel.h"
#include "common/error.h"
#include "engine/chat_session.h"
#include "engine/engine.h"
#include "support/test_support.h"

namespace gd::test {
namespace {

std::shared_ptr<Model> load(Variant v, bool gguf = false, bool find_mmproj_dir = true) {
    LoadOptions o;
    std::string path = tiny_model(v, gguf);
    if (gguf && !find_mmproj_dir) {
        // The GGUF alone, in a folder without its mmproj.
        const std::string dir = scratch_dir("audio-gguf-alone");
        write_file(dir + "/model.gguf", read_file(path));
        path = dir + "/model.gguf";
    }
    o.paths = {path};
    o.threads = 2;
    o.context = 4096;
    return Model::load(o);
}

// A deterministic clip: a tone under an envelope, plus a little noise.
std::vector<float> clip(double seconds, unsigned seed = 1) {
    std::vector<float> s(static_cast<size_t>(seconds * 16000));
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.f, 0.01f);
    for (size_t i = 0; i < s.size(); ++i) {
        const double t = static_cast<double>(i) / 16000;
        s[i] = static_cast<float>(0.3 * std::sin(2 * M_PI * 300 * t) * (0.6 + 0.4 * std::sin(2 * M_PI * 2 * t))) + noise(rng);
    }
    return s;
}

TEST(AudioInput, TokensAreTwentyFivePerSecond) {
    auto m = load(Variant::E2B);
    ASSERT_TRUE(m->has_audio());
    for (double seconds : {0.2, 1.0, 2.5}) {
        const std::vector<float> s = clip(seconds);
        auto e = m->encode_audio(s);
        EXPECT_EQ(e->kind, MediaEmbedding::Kind::Audio);
        EXPECT_EQ(e->tokens, audio_piece_token_count(static_cast<int64_t>(s.size()))) << seconds;
        EXPECT_EQ(e->tokens, audio_token_count(static_cast<int64_t>(s.size())));
        EXPECT_EQ(e->width, m->config().text.hidden_size);
        EXPECT_EQ(e->data.size(), static_cast<size_t>(e->tokens * e->width));
        EXPECT_EQ(e->audio_pieces, 1);
        EXPECT_NEAR(e->audio_seconds, seconds, 1e-3);
        EXPECT_EQ(e->key, media_content_key(*e));
    }
    EXPECT_EQ(m->encode_audio(clip(1.0))->tokens, 25);
}

TEST(AudioInput, ClipsOverThirtySecondsAreEncodedInPieces) {
    auto m = load(Variant::E4B);
    const std::vector<float> s = clip(65.0);  // 30 + 30 + 5 s
    auto whole = m->encode_audio(s);
    EXPECT_EQ(whole->audio_pieces, 3);
    EXPECT_EQ(whole->tokens, 750 + 750 + 125);
    EXPECT_EQ(whole->tokens, audio_token_count(static_cast<int64_t>(s.size())));
    // Each piece is encoded on its own: the last 5 s alone give the span's last 125 rows exactly.
    const std::vector<float> tail(s.begin() + 2 * kAudioPieceSamples, s.end());
    auto last = m->encode_audio(tail);
    ASSERT_EQ(last->tokens, 125);
    const std::vector<float> rows(whole->data.end() - static_cast<std::ptrdiff_t>(last->data.size()), whole->data.end());
    EXPECT_EQ(rows, last->data);
}

TEST(AudioInput, WhatIsRefused) {
    auto m = load(Variant::E2B);
    EXPECT_THROW(m->encode_audio(std::vector<float>(100, 0.1f)), Error);  // under one frame
    EXPECT_THROW(m->encode_audio({}), Error);
    std::vector<float> bad = clip(0.5);
    bad[100] = NAN;
    EXPECT_THROW(m->encode_audio(bad), Error);
    // Silence is audio: it encodes.
    EXPECT_EQ(m->encode_audio(std::vector<float>(16000, 0.0f))->tokens, 25);
    std::atomic<bool> cancel{true};
    EXPECT_THROW(m->encode_audio(clip(0.5), &cancel), Cancelled);

    for (auto [variant, gguf, mmproj] : {std::tuple{Variant::B31, false, true}, std::tuple{Variant::E2B, true, false}}) {
        auto no_audio = load(variant, gguf, mmproj);
        EXPECT_FALSE(no_audio->has_audio());
        try {
            no_audio->encode_audio(clip(0.5));
            FAIL() << "expected an error";
        } catch (const Error& e) {
            const std::string what = e.what();
            EXPECT_NE(what.find("no audio input"), std::string::npos) << what;
            EXPECT_NE(what.find(gguf ? "mmproj" : "E2B and E4B"), std::string::npos) << what;
        }
    }
}

TEST(AudioInput, ChatPromptWrapsTheClipInAudioMarkers) {
    auto m = load(Variant::E2B);
    const TokenIds& t = m->config().tokens;
    auto a = m->encode_audio(clip(0.6));
    ChatMessage user;
    user.role = "user";
    user.content = {{ChatItem::Kind::Audio, "", a}, {ChatItem::Kind::Text, "Transcribe this audio.", nullptr}};
    const Prompt p = single_turn_prompt(*m, user);
    ASSERT_EQ(p.media.size(), 1u);
    const PromptMedia& pm = p.media[0];
    EXPECT_EQ(p.ids[static_cast<size_t>(pm.position - 1)], t.boa);
    for (int64_t k = 0; k < a->tokens; ++k) EXPECT_EQ(p.ids[static_cast<size_t>(pm.position + k)], t.audio);
    EXPECT_EQ(p.ids[static_cast<size_t>(pm.position + a->tokens)], t.eoa);
    EXPECT_EQ(std::count(p.ids.begin(), p.ids.end(), static_cast<int32_t>(t.audio)), a->tokens);
    EXPECT_EQ(std::count(p.ids.begin(), p.ids.end(), static_cast<int32_t>(t.image)), 0);
    // The template writes the audio placeholder without surrounding newlines (spec §5.3), right
    // after the turn header.
    const std::string shown = m->tokenizer().decode(
        std::vector<int32_t>(p.ids.begin(), p.ids.begin() + static_cast<std::ptrdiff_t>(pm.position - 1)));
    EXPECT_TRUE(shown.ends_with("user\n")) << shown;
}

TEST(AudioInput, ConversationKeepsAnEarlierClipInTheCache) {
    auto m = load(Variant::E2B);
    ChatOptions o;
    o.generate.sampling.temperature = 0;
    o.generate.max_tokens = 3;
    ChatSession chat(m, o);
    auto a = m->encode_audio(clip(1.0));
    ChatMessage first;
    first.role = "user";
    first.content = {{ChatItem::Kind::Audio, "", a}, {ChatItem::Kind::Text, "What do you hear?", nullptr}};
    const ChatReply r1 = chat.send(first);
    EXPECT_GT(r1.result.stats.prefilled_tokens, a->tokens);
    chat.add(ChatMessage::text("user", "Louder or softer at the end?"));
    ASSERT_EQ(chat.prompt().media.size(), 1u);
    const ChatReply r2 = chat.reply();
    EXPECT_LT(r2.result.stats.prefilled_tokens, r2.result.stats.prompt_tokens - a->tokens)
        << "the clip was not prefilled again";
}

}  // namespace
}  // namespace gd::test
