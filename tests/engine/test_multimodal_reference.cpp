// Image and audio questions end to end against transformers (tools/reference/dump_multimodal_reference.py):
// image file -> decode -> preprocess -> vision tower -> prompt assembly (markers, placeholders) ->
// text decoder with the soft tokens inserted (and, on 26B/31B, image blocks attended
// bidirectionally on sliding layers) -> logits, for every tiny variant, from the safetensors folder
// and from the GGUF + mmproj pair.
//
// Tolerances: the reference ran each case in float64 too and stores those results; our f32 result is
// measured against them (the closest thing to exact) and may be off by at most 3x what transformers'
// own f32 run is off (recorded per tensor, relative to max|x|): an independent f32 implementation
// has an error of the same kind and size, and one measured error is a sample, not a maximum. The "square" image needs no resampling (its
// target size at 280 tokens is its own size); the "wide" one is upscaled by our resampler, whose
// parity with the reference's is tested in tests/vision.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/chat_session.h"
#include "common/error.h"
#include "support/test_support.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_preprocess.h"

namespace gd::test {
namespace {

constexpr double kErrorFactor = 3.0;

const nlohmann::json& cases() { return data_json("reference/multimodal_cases.json"); }

double relative_error(const float* a, const float* b, size_t n) {  // on raw rows
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; ++i) {
        diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::abs(static_cast<double>(b[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

std::shared_ptr<Model> load_model(const nlohmann::json& c, bool gguf) {
    LoadOptions lo;
    lo.paths = {tiny_model(*variant_from_name(c.at("variant").get<std::string>()), gguf)};  // seed 1, the reference's
    lo.threads = 2;
    lo.context = 1024;
    return Model::load(lo);
}

// The checks shared by image and audio cases, once the user message holds the encoded media and
// `soft` their soft tokens in prompt order.
void check_prompt(const nlohmann::json& c, const std::shared_ptr<Model>& model, const ChatMessage& user,
                  const std::vector<float>& soft, size_t media_count, bool gguf) {
    const auto ref = data_tensors("reference/" + c.at("file").get<std::string>());
    const std::vector<float> want_soft = ref.at("soft_tokens_f64");
    ASSERT_EQ(soft.size(), want_soft.size()) << "soft-token count";
    const double soft_err = relative_error(soft.data(), want_soft.data(), soft.size());
    EXPECT_LE(soft_err, kErrorFactor * c.at("f32_error").at("soft_tokens").get<double>()) << "soft tokens";

    // Prompt assembly: markers and one placeholder per soft token where the processor puts them.
    const Prompt prompt = single_turn_prompt(*model, user);
    ASSERT_EQ(prompt.ids, c.at("input_ids").get<std::vector<int32_t>>());
    ASSERT_EQ(prompt.media.size(), media_count);

    // The prompt path (insertion, masks, PLE pad rows) on its own: the decoder fed transformers' f64
    // soft tokens, logits at the recorded positions from one prefill as a session runs it. (With our
    // own soft tokens the logits differ more: these random tiny decoders amplify a 1e-6 change of the
    // soft tokens about 500-fold over a few hundred positions, so the tower's f32 noise, itself
    // within bounds above, dominates. That end-to-end path is checked below by its decisions.)
    std::vector<std::vector<float>> exact_rows;
    size_t offset = 0;
    std::vector<SoftTokenSpan> spans;
    for (const PromptMedia& m : prompt.media) {
        exact_rows.emplace_back(want_soft.begin() + static_cast<std::ptrdiff_t>(offset),
                                want_soft.begin() + static_cast<std::ptrdiff_t>(offset + m.media->data.size()));
        offset += m.media->data.size();
        const bool image = m.media->kind == MediaEmbedding::Kind::Image;
        spans.push_back({m.position, m.media->tokens, exact_rows.back().data(),
                         image && model->decoder().bidirectional_images()});
    }
    KvCache cache = model->decoder().make_cache(static_cast<int64_t>(prompt.ids.size()), kMaxImageTokens);
    const auto positions = c.at("logit_positions").get<std::vector<int64_t>>();
    const std::vector<float> want = ref.at("logits_f64");
    const int64_t vocab = model->config().text.vocab_size;
    std::vector<float> got(want.size());
    model->decoder().forward(prompt.ids, spans, cache, true, [&](int64_t pos, const float* row, int64_t n) {
        const auto it = std::find(positions.begin(), positions.end(), pos);
        if (it != positions.end()) std::copy(row, row + n, got.begin() + (it - positions.begin()) * vocab);
    });
    const double err = relative_error(got.data(), want.data(), got.size());
    EXPECT_LE(err, kErrorFactor * c.at("f32_error").at("logits").get<double>()) << "logits";
    if (std::getenv("GD_PRINT_ERRORS")) {
        std::printf("%s %s: soft tokens %.3g (reference's own %.3g), logits %.3g (reference's own %.3g)\n",
                    c.at("file").get<std::string>().c_str(), gguf ? "gguf" : "safetensors", soft_err,
                    c.at("f32_error").at("soft_tokens").get<double>(), err, c.at("f32_error").at("logits").get<double>());
    }

    // End to end with our own soft tokens, through the cached path: a session prefill then greedy
    // decoding gives the reference's continuation.
    Session session(model);
    GenerateOptions g;
    g.sampling.temperature = 0;
    g.max_tokens = 16;
    g.stop_ids = {-1};  // the reference generated 16 tokens without stopping
    const GenerationResult r = session.generate(prompt, g);
    EXPECT_EQ(r.ids, c.at("greedy").get<std::vector<int32_t>>()) << "greedy continuation";
}

void check_case(const nlohmann::json& c, bool gguf) {
    auto model = load_model(c, gguf);
    ASSERT_TRUE(model->has_vision());
    ChatMessage user;
    user.role = "user";
    std::vector<float> soft;
    for (const auto& file : c.at("images")) {
        const RgbImage image = decode_image_file(data_dir() + "/vision/e2e/" + file.get<std::string>());
        auto m = model->encode_image(image, c.at("image_tokens").get<int64_t>());
        soft.insert(soft.end(), m->data.begin(), m->data.end());
        user.content.push_back({ChatItem::Kind::Image, "", m});
    }
    user.content.push_back({ChatItem::Kind::Text, c.at("question").get<std::string>(), nullptr});
    check_prompt(c, model, user, soft, c.at("images").size(), gguf);
}

// Audio questions (tools/reference/dump_audio_reference.py): the clips' exact samples -> log-mel ->
// audio tower -> <|audio> + N placeholders + <audio|> before the text -> logits, E2B and E4B.
const nlohmann::json& audio_cases() { return data_json("reference/multimodal_audio_cases.json"); }

void check_audio_case(const nlohmann::json& c, bool gguf) {
    auto model = load_model(c, gguf);
    ASSERT_TRUE(model->has_audio());
    const auto ref = data_tensors("reference/" + c.at("file").get<std::string>());
    ChatMessage user;
    user.role = "user";
    std::vector<float> soft;
    for (size_t i = 0; i < c.at("clips").size(); ++i) {
        const std::vector<float>& samples = ref.at("samples-" + std::to_string(i));
        auto m = model->encode_audio(samples);
        EXPECT_EQ(m->tokens, c.at("clips").at(i).at("audio_tokens").get<int64_t>());
        EXPECT_EQ(m->audio_pieces, 1);
        soft.insert(soft.end(), m->data.begin(), m->data.end());
        user.content.push_back({ChatItem::Kind::Audio, "", m});
    }
    user.content.push_back({ChatItem::Kind::Text, c.at("question").get<std::string>(), nullptr});
    check_prompt(c, model, user, soft, c.at("clips").size(), gguf);
}

class AudioPromptReference : public ::testing::TestWithParam<int> {};

TEST_P(AudioPromptReference, SafetensorsMatchesTransformers) { check_audio_case(audio_cases().at("cases").at(GetParam()), false); }
TEST_P(AudioPromptReference, GgufWithMmprojMatchesTransformers) {
    check_audio_case(audio_cases().at("cases").at(GetParam()), true);
}

class MultimodalReference : public ::testing::TestWithParam<int> {};

TEST_P(MultimodalReference, SafetensorsMatchesTransformers) { check_case(cases().at("cases").at(GetParam()), false); }
TEST_P(MultimodalReference, GgufWithMmprojMatchesTransformers) { check_case(cases().at("cases").at(GetParam()), true); }

std::string case_name(const ::testing::TestParamInfo<int>& p) {
    const nlohmann::json& c = cases().at("cases").at(p.param);
    std::string n = c.at("variant").get<std::string>() + "_" + c.at("case").get<std::string>();
    std::replace(n.begin(), n.end(), '-', '_');
    return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, MultimodalReference, ::testing::Range(0, 8), case_name);

std::string audio_case_name(const ::testing::TestParamInfo<int>& p) {
    const nlohmann::json& c = audio_cases().at("cases").at(p.param);
    return c.at("variant").get<std::string>() + "_" + c.at("case").get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Cases, AudioPromptReference, ::testing::Range(0, 4), audio_case_name);

}  // namespace
}  // namespace gd::test
