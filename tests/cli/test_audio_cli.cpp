// The CLI contract for audio, on tiny test models: `encode --audio --json` gives audio_token_count
// rows of the text width, exactly the numbers Model::encode_audio computes in-process, and the same
// within f32 tolerance from the GGUF + mmproj form; `generate --chat --audio ... --json` reports each
// clip and the prompt grows by its tokens plus the two markers; `transcribe` prints a transcript;
// a model that cannot hear and bad files are clear errors with a non-zero exit. The input WAVs are
// synthesized at test time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "audio/features/audio_pieces.h"
#include "audio/io/audio_decode.h"
#include "audio/io/wav_file.h"
#include "engine/engine.h"
#include "support/test_support.h"

namespace gd {
namespace {

using json = nlohmann::json;

std::string e2b(bool gguf) { return test::tiny_model(Variant::E2B, gguf); }

// A voiced, speech-like signal: a 140 Hz buzz with harmonics, its loudness moving at syllable rate,
// plus a little deterministic noise. Interleaved when channels > 1 (the right channel a bit quieter).
std::string make_wav(const std::string& name, double seconds, int rate = 16000, int channels = 1) {
    const size_t frames = static_cast<size_t>(seconds * rate);
    std::vector<float> s(frames * static_cast<size_t>(channels));
    uint32_t noise = 12345;
    for (size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / rate;
        double v = 0;
        for (int h = 1; h <= 5; ++h) v += std::sin(2 * M_PI * 140 * h * t) / h;
        v *= 0.25 * (0.6 + 0.4 * std::sin(2 * M_PI * 4 * t));
        noise = noise * 1664525u + 1013904223u;
        v += 0.01 * (static_cast<double>(noise >> 8) / double(1u << 24) - 0.5);
        for (int c = 0; c < channels; ++c) s[i * static_cast<size_t>(channels) + static_cast<size_t>(c)] = static_cast<float>(v * (c ? 0.8 : 1.0));
    }
    static const std::string dir = test::scratch_dir("cli-audio-input");  // once: it starts empty
    const std::string path = dir + "/" + name;
    write_wav_file(path, s.data(), s.size(), rate, channels);
    return path;
}

// Made once: 1.5 s at 16 kHz mono, and 0.8 s at 44.1 kHz stereo (resampled and mixed down).
const std::string& short_wav() {
    static const std::string p = make_wav("short.wav", 1.5);
    return p;
}
const std::string& stereo_wav() {
    static const std::string p = make_wav("stereo.wav", 0.8, 44100, 2);
    return p;
}

int64_t tokens_of(const std::string& wav) {
    return audio_token_count(static_cast<int64_t>(decode_audio_file(wav).samples.size()));
}

json run_json(const std::string& args) {
    std::string out;
    const int rc = test::run_command(test::cli_path() + " " + args + " 2>/dev/null", &out);
    EXPECT_EQ(rc, 0) << args << "\n" << out;
    return json::parse(out);
}

// The largest |a - b| over all rows, and the largest |b|.
std::pair<double, double> max_diff(const json& rows, const MediaEmbedding& m) {
    double diff = 0, scale = 0;
    for (int64_t r = 0; r < m.tokens; ++r)
        for (int64_t k = 0; k < m.width; ++k) {
            const double want = m.data[static_cast<size_t>(r * m.width + k)];
            diff = std::max(diff, std::abs(rows[static_cast<size_t>(r)][static_cast<size_t>(k)].get<double>() - want));
            scale = std::max(scale, std::abs(want));
        }
    return {diff, scale};
}

TEST(AudioCli, EncodeJsonGivesTheEngineSoftTokens) {
    const DecodedAudio clip = decode_audio_file(short_wav());
    LoadOptions o;
    o.paths = {e2b(false)};
    auto model = Model::load(o);
    ASSERT_TRUE(model->has_audio());
    const auto want = model->encode_audio(clip.samples);

    const json j = run_json("encode --model " + e2b(false) + " --audio " + short_wav() + " --json");
    EXPECT_EQ(j.at("kind"), "audio");
    EXPECT_EQ(j.at("file"), short_wav());
    EXPECT_EQ(j.at("tokens"), audio_token_count(static_cast<int64_t>(clip.samples.size())));
    EXPECT_EQ(j.at("tokens"), want->tokens);
    EXPECT_EQ(j.at("pieces"), 1);
    EXPECT_NEAR(j.at("seconds").get<double>(), 1.5, 1e-3);
    EXPECT_EQ(j.at("source_rate"), 16000);
    EXPECT_EQ(j.at("source_channels"), 1);
    EXPECT_EQ(j.at("codec"), "pcm_s16le");
    const json& e = j.at("embeddings");
    ASSERT_EQ(e.size(), static_cast<size_t>(want->tokens));
    ASSERT_EQ(e.at(0).size(), static_cast<size_t>(model->config().text.hidden_size));
    // The same decoder, weights and thread count: the same numbers (JSON round-trips a float exactly).
    const auto [diff, scale] = max_diff(e, *want);
    EXPECT_LE(diff, 1e-6 * scale);
}

TEST(AudioCli, GgufWithItsMmprojGivesTheSameSoftTokens) {
    const json st = run_json("encode --model " + e2b(false) + " --audio " + stereo_wav() + " --json");
    const json gg = run_json("encode --model " + e2b(true) + " --audio " + stereo_wav() + " --json");
    EXPECT_EQ(gg.at("source_rate"), 44100);
    EXPECT_EQ(gg.at("source_channels"), 2);
    EXPECT_EQ(gg.at("tokens"), tokens_of(stereo_wav()));
    ASSERT_EQ(gg.at("tokens"), st.at("tokens"));
    MediaEmbedding m;  // the safetensors rows as the reference
    m.tokens = st.at("tokens");
    m.width = static_cast<int64_t>(st.at("embeddings").at(0).size());
    for (const json& row : st.at("embeddings"))
        for (const json& v : row) m.data.push_back(v.get<float>());
    const auto [diff, scale] = max_diff(gg.at("embeddings"), m);
    EXPECT_LE(diff, 1e-4 * scale) << "the two files hold the same f32 weights";
}

TEST(AudioCli, ClipsOver30SecondsAreEncodedInPieces) {
    const std::string wav = make_wav("long.wav", 31);
    const json j = run_json("encode --model " + e2b(true) + " --audio " + wav + " --json");
    EXPECT_EQ(j.at("pieces"), 2);
    EXPECT_EQ(j.at("tokens"), tokens_of(wav));
    EXPECT_EQ(j.at("embeddings").size(), j.at("tokens").get<size_t>());
    std::string help;
    ASSERT_EQ(test::run_command(test::cli_path() + " transcribe --help", &help), 0);
    // The rule is stated as audio_piece_rule() words it (wrapped over lines).
    const auto words = [](const std::string& s) {
        std::string out;
        for (char ch : s)
            if (!std::isspace(static_cast<unsigned char>(ch))) out += ch;
            else if (!out.empty() && out.back() != ' ') out += ' ';
        return out;
    };
    EXPECT_NE(words(help).find(words(audio_piece_rule())), std::string::npos) << help;
}

// The prompt ids from `generate --chat` with these extra arguments.
json chat(const std::string& text, const std::string& extra) {
    return run_json("generate --model " + e2b(true) + " --chat '" + text + "' --temperature 0 --max-tokens 2 --json " + extra);
}

// The ids of <|audio>, <|audio|>, <audio|> and <image|> in the tiny vocabulary.
std::vector<int32_t> marker_ids() {
    return run_json("tokenize --model " + e2b(true) + " --json '<|audio><|audio|><audio|><image|>'").at("ids").get<std::vector<int32_t>>();
}

TEST(AudioCli, GenerateReportsEachClipAndThePromptGrowsByItsTokens) {
    const std::vector<int32_t> markers = marker_ids();
    ASSERT_EQ(markers.size(), 4u);
    const int32_t begin_audio = markers[0], audio = markers[1], end_audio = markers[2], end_image = markers[3];
    const size_t plain = chat("What is this?", "").at("prompt_ids").size();
    const int64_t t1 = tokens_of(short_wav()), t2 = tokens_of(stereo_wav());

    const json one = chat("What is this?", "--audio " + short_wav());
    ASSERT_EQ(one.at("audio").size(), 1u);
    const json& c = one.at("audio")[0];
    EXPECT_EQ(c.at("file"), short_wav());
    EXPECT_EQ(c.at("tokens"), t1);
    EXPECT_EQ(c.at("pieces"), 1);
    EXPECT_EQ(c.at("codec"), "pcm_s16le");
    for (const char* key : {"seconds", "encode_seconds", "source_rate", "source_channels"}) EXPECT_TRUE(c.contains(key)) << key;
    const auto ids = one.at("prompt_ids").get<std::vector<int32_t>>();
    ASSERT_EQ(ids.size(), plain + static_cast<size_t>(t1) + 2);
    EXPECT_EQ(one.at("stats").at("prompt_tokens"), ids.size());
    // <|audio> N x <|audio|> <audio|>, before the text.
    const auto begin = std::find(ids.begin(), ids.end(), begin_audio);
    ASSERT_NE(begin, ids.end());
    EXPECT_EQ(std::count(ids.begin(), ids.end(), audio), t1);
    EXPECT_EQ(*(begin + t1 + 1), end_audio);
    EXPECT_EQ(one.at("transcription_request"), false);

    const json two = chat("What is this?", "--audio " + short_wav() + " --audio " + stereo_wav());
    ASSERT_EQ(two.at("audio").size(), 2u);
    EXPECT_EQ(two.at("audio")[1].at("file"), stereo_wav());
    EXPECT_EQ(two.at("audio")[1].at("source_channels"), 2);
    EXPECT_EQ(two.at("prompt_ids").size(), plain + static_cast<size_t>(t1 + 2 + t2 + 2));

    // With an image too: the image first, then the clip, then the text.
    const std::string image = "--image " + test::data_dir() + "/vision/e2e/wide.png --image-tokens 70";
    const size_t with_image = chat("What is this?", image).at("prompt_ids").size();
    const json both = chat("What is this?", image + " --audio " + short_wav());
    ASSERT_EQ(both.at("images").size(), 1u);
    ASSERT_EQ(both.at("audio").size(), 1u);
    const auto mixed = both.at("prompt_ids").get<std::vector<int32_t>>();
    EXPECT_EQ(mixed.size(), with_image + static_cast<size_t>(t1) + 2);
    const auto image_end = std::find(mixed.begin(), mixed.end(), end_image);
    const auto audio_begin = std::find(mixed.begin(), mixed.end(), begin_audio);
    ASSERT_NE(audio_begin, mixed.end());
    EXPECT_LT(image_end, audio_begin);
}

TEST(AudioCli, TranscriptionRequestsAreAnsweredWithoutThinking) {
    for (const char* text : {"Please transcribe this.", "Give me a TRANSCRIPT", "speech-to-text please"}) {
        const json j = chat(text, "--audio " + short_wav());
        EXPECT_EQ(j.at("transcription_request"), true) << text;
        EXPECT_EQ(j.at("thinking"), false) << text;
    }
    const json asked = chat("Transcribe this.", "--audio " + short_wav() + " --think");
    EXPECT_EQ(asked.at("transcription_request"), true);
    EXPECT_EQ(asked.at("thinking"), true) << "an explicit --think wins";
    EXPECT_EQ(chat("What is this?", "--audio " + short_wav()).at("thinking"), false);
}

TEST(AudioCli, TranscribePrintsTheTranscript) {
    const std::string base = "transcribe --model " + e2b(false) + " " + short_wav() + " --max-tokens 8";
    const json j = run_json(base + " --json");
    EXPECT_TRUE(j.at("text").is_string());
    EXPECT_EQ(j.at("audio_tokens"), tokens_of(short_wav()));
    EXPECT_EQ(j.at("pieces"), 1);
    EXPECT_NEAR(j.at("seconds").get<double>(), 1.5, 1e-3);
    EXPECT_LE(j.at("stats").at("generated_tokens").get<int>(), 8);
    EXPECT_NE(j.at("prompt").get<std::string>().find("Transcribe"), std::string::npos);
    // Plain mode streams the same greedy text to stdout.
    std::string out;
    ASSERT_EQ(test::run_command("(" + test::cli_path() + " " + base + " 2>/dev/null)", &out), 0) << out;
    EXPECT_EQ(out, j.at("text").get<std::string>() + "\n");
    const json en = run_json(base + " --language English --json");
    EXPECT_NE(en.at("prompt").get<std::string>().find("in English into English text"), std::string::npos);
    EXPECT_EQ(en.at("language"), "English");
}

TEST(AudioCli, AModelWithoutAudioSaysSo) {
    std::string out;
    // 26B/31B have no audio tower at all.
    const std::string big = test::tiny_model(Variant::B31, false);
    EXPECT_EQ(test::run_command(test::cli_path() + " generate --model " + big + " --chat hi --audio " + short_wav(), &out), 1)
        << out;
    EXPECT_NE(out.find("E2B or E4B"), std::string::npos) << out;
    EXPECT_EQ(test::run_command(test::cli_path() + " transcribe --model " + big + " " + short_wav(), &out), 1) << out;
    EXPECT_NE(out.find("E2B or E4B"), std::string::npos) << out;
    // An E2B GGUF without its mmproj cannot hear until given one.
    const std::string model = e2b(true), dir = model.substr(0, model.rfind('/'));
    const std::string lone = test::scratch_dir("cli-audio-lone") + "/model.gguf";
    ASSERT_EQ(test::run_command("cp " + model + " " + lone, &out), 0) << out;
    EXPECT_EQ(test::run_command(test::cli_path() + " encode --model " + lone + " --audio " + short_wav(), &out), 1) << out;
    EXPECT_NE(out.find("mmproj"), std::string::npos) << out;
    const json j = run_json("encode --model " + lone + " --mmproj " + dir + "/mmproj-model.gguf --audio " + short_wav() + " --json");
    EXPECT_EQ(j.at("tokens"), tokens_of(short_wav()));
}

TEST(AudioCli, BadFilesAreClearErrorsBeforeTheModelLoads) {
    const std::string dir = test::scratch_dir("cli-audio-bad");
    const std::string text = dir + "/notes.wav", empty = dir + "/empty.wav", missing = dir + "/missing.wav";
    test::write_file(text, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n'});
    test::write_file(empty, {});
    const std::string too_long = make_wav("eleven-minutes.wav", 601, 8000);
    // The model path does not exist: the audio must fail first, without a model load.
    for (const std::string& file : {text, empty, missing, too_long}) {
        const std::string name = file.substr(file.rfind('/') + 1);
        for (const std::string& cmd : {"encode --model /nonexistent.gguf --audio " + file,
                                      "generate --model /nonexistent.gguf --chat hi --audio " + file,
                                      "transcribe --model /nonexistent.gguf " + file}) {
            std::string out;
            EXPECT_EQ(test::run_command(test::cli_path() + " " + cmd, &out), 1) << cmd << "\n" << out;
            EXPECT_NE(out.find(name), std::string::npos) << cmd << "\n" << out;
            EXPECT_EQ(out.find("nonexistent"), std::string::npos) << "the file was checked first: " << out;
            EXPECT_EQ(out.find("terminate"), std::string::npos) << "a clean error, not a crash: " << out;
        }
    }
    std::string out;
    EXPECT_EQ(test::run_command(test::cli_path() + " generate --model " + e2b(true) + " --prompt hi --audio " + short_wav(), &out), 2);
    EXPECT_NE(out.find("--chat"), std::string::npos) << out;
    EXPECT_EQ(test::run_command(test::cli_path() + " encode --model " + e2b(true) + " --audio " + short_wav() + " --image " +
                                    test::data_dir() + "/vision/e2e/wide.png",
                                &out),
              2);
    EXPECT_EQ(test::run_command(test::cli_path() + " transcribe --model " + e2b(true), &out), 2) << out;
}

}  // namespace
}  // namespace gd
