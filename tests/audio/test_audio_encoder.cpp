// The CPU audio tower against transformers (tools/reference/dump_audio_reference.py): every named
// intermediate (features, sscp_conv0/1, sscp_out, a_ffw1/a_attn/a_lconv/a_ffw2/a_out per layer,
// output_proj, soft_tokens) of the tiny E2B and E4B towers for clips shorter than one attention chunk,
// across several chunks, and longer; from the safetensors folder and from the GGUF + mmproj made with
// the same seed (whose per_dim_scale is stored softplus-ed). The tight-clip case sets every clip bound
// of the tower to a value that bites (the script records them), so a skipped clamp fails. Plus the
// tower's errors: no tower, a missing tensor, NaN in a scale, too-short input, and cancellation.
//
// Tolerances as in the vision test: the script runs every case in float64 too and records the f32
// reference's own error per tensor (`f32_error`, relative to max|x|). Two f32 results each within e of
// the exact one differ by up to 2e; the bound is 3e, with a floor of 1e-6.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include <nlohmann/json.hpp>

#include "audio/encoder/audio_encoder.h"
#include "audio/features/log_mel.h"
#include "backend/backend.h"
#include "common/error.h"
#include "format/quant/quant.h"
#include "model/model_files.h"
#include "support/test_support.h"

namespace gd::test {
namespace {

constexpr double kErrorFactor = 3.0;
constexpr double kErrorFloor = 1e-6;

const nlohmann::json& audio_cases() { return data_json("reference/audio_cases.json"); }

struct Encoded {
    std::map<std::string, std::vector<float>> tensors;
    std::vector<float> soft;
};

Encoded encode(const std::string& path, const LogMel& mel, int threads = 2, bool find_mmproj = true) {
    const ModelFiles files = ModelFiles::open({path}, find_mmproj);
    auto backend = make_cpu_backend(threads);
    AudioEncoder enc(files, *backend);
    Encoded r;
    r.soft = enc.encode(mel, [&](const std::string& name, const Tensor& t) {
        std::vector<float> h(static_cast<size_t>(t.elements()));
        backend->download(t, h.data());
        EXPECT_EQ(r.tensors.count(name), 0u) << name << " observed twice";
        r.tensors[name] = std::move(h);
    });
    return r;
}

// The tiny E2B model with the clip bounds the reference set (by HF name, f32 scalars).
std::string tight_clip_model(const nlohmann::json& bounds) {
    return rewritten_model(tiny_model(Variant::E2B, false), "audio-tightclip",
                           [&](const std::string& name, DType type, uint8_t* b, uint64_t n) {
                               if (bounds.contains(name)) {
                                   EXPECT_EQ(type, DType::F32);
                                   EXPECT_EQ(n, 4u);
                                   const float v = bounds.at(name).get<float>();
                                   std::memcpy(b, &v, 4);
                               }
                               return true;
                           });
}

void compare_case(const nlohmann::json& c, bool gguf) {
    const Variant variant = *variant_from_name(c.at("variant").get<std::string>());
    const auto ref = data_tensors("reference/" + c.at("file").get<std::string>());
    const std::vector<float>& samples = ref.at("samples");
    ASSERT_EQ(static_cast<int64_t>(samples.size()), c.at("n_samples").get<int64_t>());
    const LogMel mel = log_mel_spectrogram(samples.data(), samples.size());
    ASSERT_EQ(mel.frames, c.at("frames").get<int64_t>());
    ASSERT_EQ(AudioEncoder::tokens_for_frames(mel.frames), c.at("tokens").get<int64_t>());

    std::string path;
    if (c.contains("clip_bounds") && c.at("clip_bounds").is_object()) {
        if (gguf) GTEST_SKIP() << "the tight-clip case is checked from the safetensors folder";
        path = tight_clip_model(c.at("clip_bounds"));
    } else {
        path = tiny_model(variant, gguf);
    }
    Encoded got = encode(path, mel);
    got.tensors["features"] = mel.data;
    const std::string where = c.at("file").get<std::string>() + (gguf ? " (gguf)" : " (safetensors)");
    int compared = 0;
    for (const auto& [name, want] : ref) {
        if (name == "samples") continue;
        auto it = got.tensors.find(name);
        ASSERT_NE(it, got.tensors.end()) << "the encoder did not produce " << name;
        const double err = relative_error(it->second, want);
        const double ref_error = c.at("f32_error").at(name).get<double>();
        const double tol = std::max(kErrorFactor * ref_error, kErrorFloor);
        if (std::getenv("GD_PRINT_ERRORS"))
            std::printf("%-40s %-12s error %.3g reference's own %.3g\n", where.c_str(), name.c_str(), err, ref_error);
        EXPECT_LE(err, tol) << where << " " << name;
        ++compared;
    }
    EXPECT_GE(compared, 2);
    const int64_t layers = c.at("config").at("num_hidden_layers").get<int64_t>();
    for (int64_t i = 0; i < layers; ++i) EXPECT_TRUE(got.tensors.count("a_out-" + std::to_string(i))) << i;
    EXPECT_EQ(got.soft, got.tensors.at("soft_tokens"));
}

class AudioReference : public ::testing::TestWithParam<int> {};

TEST_P(AudioReference, SafetensorsMatchesTransformers) { compare_case(audio_cases().at("cases").at(GetParam()), false); }
TEST_P(AudioReference, GgufMatchesTransformers) { compare_case(audio_cases().at("cases").at(GetParam()), true); }

std::vector<int> case_indices() {
    std::vector<int> v;
    for (size_t i = 0; i < audio_cases().at("cases").size(); ++i) v.push_back(static_cast<int>(i));
    return v;
}

std::string case_name(const ::testing::TestParamInfo<int>& p) {
    const nlohmann::json& c = audio_cases().at("cases").at(p.param);
    return c.at("variant").get<std::string>() + "_" + c.at("case").get<std::string>();
}

INSTANTIATE_TEST_SUITE_P(Cases, AudioReference, ::testing::ValuesIn(case_indices()), case_name);

LogMel reference_features(const std::string& file) {
    const auto ref = data_tensors("reference/" + file);
    const std::vector<float>& s = ref.at("samples");
    return log_mel_spectrogram(s.data(), s.size());
}

// The same model stored as bf16 safetensors (as the release checkpoints) and as a q8_0 mmproj: the
// weights are the f32 ones rounded, so the soft tokens stay close to the f32 reference. The bound is a
// check of the decoding paths (a mis-read tensor gives errors of order 1), not a parity tolerance.
TEST(AudioEncoder, OtherStoredTypesStayClose) {
    const auto ref = data_tensors("reference/audio_e2b_mid.safetensors");
    const LogMel mel = reference_features("audio_e2b_mid.safetensors");
    // Measured: see the closing note of issue 6 (GD_PRINT_ERRORS=1 prints them).
    const struct {
        bool gguf;
        DType type;
        double bound;
    } kinds[] = {{false, DType::BF16, 0.05}, {true, DType::F16, 0.01}, {true, DType::Q8_0, 0.05}};
    for (const auto& k : kinds) {
        const double err = relative_error(encode(tiny_model(Variant::E2B, k.gguf, 1, k.type), mel).soft, ref.at("soft_tokens"));
        if (std::getenv("GD_PRINT_ERRORS"))
            std::printf("%s %s: soft_tokens error %.3g\n", k.gguf ? "gguf" : "safetensors", dtype_name(k.type), err);
        EXPECT_LT(err, k.bound) << dtype_name(k.type);
    }
}

TEST(AudioEncoder, ThreadCountDoesNotChangeTheResult) {
    const LogMel mel = reference_features("audio_e2b_long.safetensors");
    const std::string path = tiny_model(Variant::E4B, false);
    EXPECT_EQ(encode(path, mel, 1).soft, encode(path, mel, 3).soft);
}

void place_audio_tower(const ModelFiles& files) {
    auto backend = make_cpu_backend(1);
    AudioEncoder enc(files, *backend);
}

TEST(AudioEncoder, NoTowerIsAModelError) {
    // The 31B has no audio tower at all; a GGUF opened without its mmproj has none either.
    expect_model_error(tiny_model(Variant::B31, false), place_audio_tower, "audio", false);
    expect_model_error(tiny_model(Variant::E2B, true), place_audio_tower, "audio", false);
}

TEST(AudioEncoder, MissingTowerTensorIsAModelErrorNamingIt) {
    const std::string gone = "model.audio_tower.layers.1.lconv1d.depthwise_conv1d.weight";
    expect_model_error(model_without_tensor(gone, "audio-missing"), place_audio_tower, gone);
}

TEST(AudioEncoder, NanScaleIsAModelErrorNamingIt) {
    expect_model_error(model_with_nan("model.audio_tower.layers.0.self_attn.per_dim_scale", 1, "audio-nan"),
                       place_audio_tower, "a.blk.0.per_dim_scale");
}

TEST(AudioEncoder, CancelIsCheckedBetweenLayersAndShortInputIsAnError) {
    const ModelFiles files = ModelFiles::open({tiny_model(Variant::E2B, false)});
    auto backend = make_cpu_backend(1);
    AudioEncoder enc(files, *backend);
    const LogMel mel = reference_features("audio_e2b_short.safetensors");
    std::atomic<bool> cancel{true};
    EXPECT_THROW(enc.encode(mel, {}, &cancel), Cancelled);
    cancel = false;
    std::vector<std::string> seen;
    EXPECT_THROW(enc.encode(
                     mel,
                     [&](const std::string& name, const Tensor&) {
                         seen.push_back(name);
                         if (name == "a_out-0") cancel = true;
                     },
                     &cancel),
                 Cancelled);
    EXPECT_EQ(seen.back(), "a_out-0");
    EXPECT_EQ(std::count(seen.begin(), seen.end(), "a_ffw1-1"), 0);
    cancel = false;
    EXPECT_EQ(enc.encode(mel, {}, &cancel).size(), 7u * static_cast<size_t>(files.config().text.hidden_size));

    LogMel empty;
    EXPECT_THROW(enc.encode(empty), Error);
    LogMel wrong = mel;
    wrong.data.pop_back();
    EXPECT_THROW(enc.encode(wrong), Error);
}

TEST(AudioEncoder, TheTightClipCaseClampsEveryLinear) {
    // Guards the reference data itself: in the tight-clip case every kind of clipped linear clamps
    // both its input and its output, so skipping any clamp fails the comparison above.
    bool found = false;
    for (const auto& c : audio_cases().at("cases")) {
        if (!(c.contains("clip_bounds") && c.at("clip_bounds").is_object())) continue;
        found = true;
        for (const auto& [kind, counts] : c.at("clamped").items()) {
            EXPECT_GT(counts.at("inputs").get<int64_t>(), 0) << kind;
            EXPECT_GT(counts.at("outputs").get<int64_t>(), 0) << kind;
        }
    }
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace gd::test
