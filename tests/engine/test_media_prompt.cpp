// Soft tokens in the prompt, on real tiny models: what the decoder does with a span (the rows go in
// as they are, the PLE token part reads the pad row), where 26B/31B attend bidirectionally (sliding
// layers, within one image, never split across prefill chunks), when a session may reuse cached
// image positions (only for the same image at the same place), and how the chat prompt is assembled
// (markers around one placeholder per soft token; reserved text refused).
#include <gtest/gtest.h>

#include <cmath>
#include <atomic>
#include <random>

#include "common/error.h"
#include "engine/chat_session.h"
#include "engine/engine.h"
#include "support/test_support.h"

namespace gd::test {
namespace {

std::shared_ptr<Model> load(Variant v, int64_t batch = 64) {
    LoadOptions o;
    o.paths = {tiny_model(v, false, 3)};
    o.threads = 2;
    o.context = 512;
    o.batch = batch;
    return Model::load(o);
}

// A made-up image embedding of `tokens` rows (what the tower would return), deterministic per seed.
std::shared_ptr<MediaEmbedding> fake_image(const Model& m, int64_t tokens, unsigned seed) {
    auto e = std::make_shared<MediaEmbedding>();
    e->tokens = tokens;
    e->width = m.config().text.hidden_size;
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    e->data.resize(static_cast<size_t>(tokens * e->width));
    for (float& v : e->data) v = nd(rng);
    e->key = media_content_key(*e);
    return e;
}

// Logits of every position of ids (one forward on a fresh cache).
std::vector<std::vector<float>> all_logits(Model& m, const std::vector<int32_t>& ids, const std::vector<SoftTokenSpan>& spans,
                                           int64_t max_chunk) {
    KvCache cache = m.decoder().make_cache(static_cast<int64_t>(ids.size()), max_chunk);
    std::vector<std::vector<float>> out(ids.size());
    m.decoder().forward(ids, spans, cache, true,
                        [&](int64_t pos, const float* row, int64_t n) { out[static_cast<size_t>(pos)].assign(row, row + n); });
    return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(static_cast<double>(a[i]) - b[i]));
    return d;
}

std::vector<int32_t> some_ids(int64_t n, int32_t first = 40) {
    std::vector<int32_t> ids = {2};
    for (int64_t i = 1; i < n; ++i) ids.push_back(first + static_cast<int32_t>((i * 37) % 400));
    return ids;
}

TEST(MediaPrompt, SpanRowsGoInAsTheyAreOnModelsWithoutPle) {
    // 31B has no PLE: a span holding exactly the scaled embedding rows of some ids gives the same
    // logits as the ids themselves (a span is causal there, like text).
    auto m = load(Variant::B31);
    const std::vector<int32_t> ids = some_ids(30);
    const int64_t H = m->config().text.hidden_size;
    const float scale = static_cast<float>(std::sqrt(static_cast<double>(H)));
    std::vector<float> rows;
    std::vector<int32_t> with_placeholders = ids;
    const TensorView& table = m->files().get("token_embd.weight").view;
    ASSERT_EQ(table.type, DType::F32);
    for (int64_t p = 5; p < 15; ++p) {
        const float* r = reinterpret_cast<const float*>(table.data) + static_cast<int64_t>(ids[static_cast<size_t>(p)]) * H;
        for (int64_t c = 0; c < H; ++c) rows.push_back(r[c] * scale);
        with_placeholders[static_cast<size_t>(p)] = static_cast<int32_t>(m->config().tokens.image);
    }
    const auto want = all_logits(*m, ids, {}, 64);
    const auto got = all_logits(*m, with_placeholders, {{5, 10, rows.data(), false}}, 64);
    for (size_t p = 0; p < ids.size(); ++p) EXPECT_LE(max_diff(got[p], want[p]), 1e-4) << "position " << p;
}

TEST(MediaPrompt, BidirectionalBlockSeesLaterImageTokensOnlyOn26bAnd31b) {
    for (Variant v : {Variant::E2B, Variant::B31}) {
        auto m = load(v);
        const std::vector<int32_t> ids = [&] {
            auto x = some_ids(40);
            for (int p = 10; p < 30; ++p) x[static_cast<size_t>(p)] = static_cast<int32_t>(m->config().tokens.image);
            return x;
        }();
        auto img = fake_image(*m, 20, 1), other = fake_image(*m, 20, 2);
        // Change only the image's last row: with bidirectional attention the first image position sees it.
        std::copy(img->data.begin(), img->data.end() - m->config().text.hidden_size, other->data.begin());
        const bool bidir = m->decoder().bidirectional_images();
        EXPECT_EQ(bidir, v == Variant::B31);
        const auto a = all_logits(*m, ids, {{10, 20, img->data.data(), true}}, 64);
        const auto b = all_logits(*m, ids, {{10, 20, other->data.data(), true}}, 64);
        EXPECT_EQ(max_diff(a[9], b[9]), 0.0) << "before the image nothing changes";
        if (bidir) {
            EXPECT_GT(max_diff(a[10], b[10]), 1e-3) << "the image's first position sees its last one";
        } else {
            EXPECT_EQ(max_diff(a[10], b[10]), 0.0) << "causal: the first position does not see later ones";
        }
    }
}

TEST(MediaPrompt, ChunkingNeverSplitsABidirectionalImage) {
    // 31B, chunks of 16 tokens; an image of 12 rows starting at 10 would straddle the boundary at 16.
    auto m = load(Variant::B31);
    std::vector<int32_t> ids = some_ids(50);
    for (int p = 10; p < 22; ++p) ids[static_cast<size_t>(p)] = static_cast<int32_t>(m->config().tokens.image);
    auto img = fake_image(*m, 12, 5);
    const std::vector<SoftTokenSpan> spans = {{10, 12, img->data.data(), true}};
    const auto one_chunk = all_logits(*m, ids, spans, 64);
    const auto chunked = all_logits(*m, ids, spans, 16);
    for (size_t p = 0; p < ids.size(); ++p) EXPECT_LE(max_diff(chunked[p], one_chunk[p]), 1e-4) << "position " << p;
    // An image longer than a chunk cannot be attended as a whole.
    KvCache small = m->decoder().make_cache(64, 8);
    EXPECT_THROW(m->decoder().forward(ids, spans, small, false, [](int64_t, const float*, int64_t) {}), Error);
}

TEST(MediaPrompt, SessionReusesCachedImagePositionsOnlyForTheSameImage) {
    auto m = load(Variant::E2B);
    Session s(m);
    GenerateOptions g;
    g.sampling.temperature = 0;
    g.max_tokens = 1;
    std::vector<int32_t> ids = some_ids(40);
    for (int p = 10; p < 26; ++p) ids[static_cast<size_t>(p)] = static_cast<int32_t>(m->config().tokens.image);
    auto a = fake_image(*m, 16, 1), b = fake_image(*m, 16, 2);
    const auto first = s.generate(Prompt{ids, {{10, a}}}, g);
    EXPECT_EQ(first.stats.prefilled_tokens, 40);
    const auto same = s.generate(Prompt{ids, {{10, a}}}, g);
    EXPECT_EQ(same.stats.prefilled_tokens, 1) << "everything but the last token is cached";
    const auto changed = s.generate(Prompt{ids, {{10, b}}}, g);
    EXPECT_EQ(changed.stats.prefilled_tokens, 30) << "a different image at the same place: from its first row on";
    // The answer equals a fresh session's: nothing of image a survived.
    Session fresh(m);
    EXPECT_EQ(fresh.generate(Prompt{ids, {{10, b}}}, g).ids, changed.ids);
    // Media that do not fit their placeholders are refused.
    EXPECT_THROW(s.generate(Prompt{ids, {{30, a}}}, g), Error);
    auto narrow = std::make_shared<MediaEmbedding>(*a);
    narrow->width = 7;
    EXPECT_THROW(s.generate(Prompt{ids, {{10, narrow}}}, g), Error);
}

TEST(MediaPrompt, ChatPromptWrapsEachImageInMarkersWithOnePlaceholderPerSoftToken) {
    auto m = load(Variant::E2B);
    const TokenIds& t = m->config().tokens;
    ChatMessage user;
    user.role = "user";
    auto a = fake_image(*m, 6, 1), b = fake_image(*m, 4, 2);
    user.content = {{ChatItem::Kind::Image, "", a}, {ChatItem::Kind::Image, "", b}, {ChatItem::Kind::Text, "What is this?", nullptr}};
    const Prompt p = single_turn_prompt(*m, user);
    ASSERT_EQ(p.media.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const PromptMedia& pm = p.media[i];
        EXPECT_EQ(p.ids[static_cast<size_t>(pm.position - 1)], t.boi);
        for (int64_t k = 0; k < pm.media->tokens; ++k) EXPECT_EQ(p.ids[static_cast<size_t>(pm.position + k)], t.image);
        EXPECT_EQ(p.ids[static_cast<size_t>(pm.position + pm.media->tokens)], t.eoi);
    }
    EXPECT_EQ(p.media[0].media, a);
    EXPECT_EQ(p.media[1].media, b);
    EXPECT_EQ(std::count(p.ids.begin(), p.ids.end(), static_cast<int32_t>(t.image)), 10);

    // Text that spells a placeholder stays text: only attachments become soft tokens.
    ChatMessage typed;
    typed.role = "user";
    typed.content = {{ChatItem::Kind::Image, "", a}, {ChatItem::Kind::Text, "what does <|image|> or <|audio|> mean?", nullptr}};
    const Prompt q = single_turn_prompt(*m, typed);
    ASSERT_EQ(q.media.size(), 1u);
    EXPECT_EQ(std::count(q.ids.begin(), q.ids.end(), static_cast<int32_t>(t.image)), 6);
    EXPECT_EQ(std::count(q.ids.begin(), q.ids.end(), static_cast<int32_t>(t.audio)), 0);
    const std::string shown = m->tokenizer().decode(q.ids);
    EXPECT_NE(shown.find("what does <|image|> or <|audio|> mean?"), std::string::npos) << shown;
    // An image item without its soft tokens is a programming error, reported as such.
    ChatMessage empty;
    empty.role = "user";
    empty.content = {{ChatItem::Kind::Image, "", nullptr}};
    EXPECT_THROW(single_turn_prompt(*m, empty), Error);
}

TEST(MediaPrompt, ChatSessionKeepsEarlierImagesInTheCacheAcrossTurns) {
    auto m = load(Variant::A26B);
    ChatOptions o;
    o.generate.sampling.temperature = 0;
    o.generate.max_tokens = 3;
    ChatSession chat(m, o);
    ChatMessage first;
    first.role = "user";
    first.content = {{ChatItem::Kind::Image, "", fake_image(*m, 9, 1)}, {ChatItem::Kind::Text, "Describe it.", nullptr}};
    const ChatReply r1 = chat.send(first);
    EXPECT_GT(r1.result.stats.prefilled_tokens, 9);
    const Prompt next = [&] {
        chat.add(ChatMessage::text("user", "And the colours?"));
        Prompt p = chat.prompt();
        return p;
    }();
    ASSERT_EQ(next.media.size(), 1u) << "the first turn's image is still in the conversation";
    const ChatReply r2 = chat.reply();
    EXPECT_LT(r2.result.stats.prefilled_tokens, r2.result.stats.prompt_tokens - 9) << "the image was not prefilled again";
}

}  // namespace
}  // namespace gd::test

namespace gd::test {
namespace {

TEST(MediaPrompt, AStoppedChunkLimitsHowFarTheSlidingRingsCanRewind) {
    // A prefill stopped inside a chunk has already stored that chunk's keys in the rings of the
    // layers that ran, over older positions; continuing from a point that needs those is refused.
    auto m = load(Variant::E2B);
    const int64_t W = m->config().text.sliding_window;  // 16 on the tiny model
    KvCache cache = m->decoder().make_cache(256, 16);    // ring of W + 16 - 1 slots
    std::atomic<bool> cancel{false};
    int chunks_started = 0;
    const std::vector<int32_t> ids = some_ids(48);
    EXPECT_THROW(m->decoder().forward(
                     ids, {}, cache, false, [](int64_t, const float*, int64_t) {},
                     [&](const std::string& name, const Tensor&) {
                         if (name == "inp_scaled") ++chunks_started;
                         if (chunks_started == 3 && name == "attn_out-0") cancel.store(true);  // third chunk, layer 0 done
                     },
                     &cancel),
                 Cancelled);
    EXPECT_EQ(cache.length(), 32);
    EXPECT_TRUE(cache.can_rewind_to(32)) << "its window [17, 32) was not overwritten";
    EXPECT_FALSE(cache.can_rewind_to(20)) << "positions 1..16 were overwritten by 32..47 in layer 0's ring";
    EXPECT_GE(32 - W + 1, 48 - (W + 16 - 1));
}

}  // namespace
}  // namespace gd::test
