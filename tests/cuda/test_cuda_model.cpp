// The whole model on the GPU: every tiny variant's decoder against transformers' reference tensors
// (the same cases and bound as tests/text/test_decoder_reference.cpp), the decoder from bf16 and
// quantized GGUF files against the CPU backend on the same file, a greedy generation step by step
// with sampling on the device, and the vision and audio towers against the CPU backend.
//
// Tolerances. f32 weights: cuBLAS runs plain f32 (no TF32) and every kernel accumulates in f32, so
// the GPU is one more f32 computation with its own summation order: within 3× the reference's own
// f32 error, as the CPU (see test_decoder_reference.cpp). bf16/f16/quantized weights: prefill
// products round the activations to bf16 (relative 2^-9) on the GPU and not on the CPU; over the
// tiny models' few layers this stays under 1e-2 relative — the bf16 tolerance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <stdlib.h>

#include "audio/encoder/audio_encoder.h"
#include "backend/op_test_support.h"
#include "audio/features/log_mel.h"
#include "cuda/cuda_test_support.h"
#include "common/error.h"
#include "model/model_files.h"
#include "testmodel/test_model.h"
#include "text/decoder_support.h"
#include "vision/encoder/vision_encoder.h"

namespace gd::test {
namespace {

constexpr double kBf16Tolerance = 1e-2;

class CudaDecoderReference : public ::testing::TestWithParam<int> {};

TEST_P(CudaDecoderReference, MatchesTransformers) {
    GD_CUDA_TEST_SETUP(gpu);
    const nlohmann::json& c = reference_cases().at("cases").at(GetParam());
    auto model = load_decoder_on(tiny_model_path(variant_of_case(c), false), std::move(gpu));
    const auto got = run_all(*model->decoder, c.at("input_ids").get<std::vector<int32_t>>());
    EXPECT_GE(expect_matches_reference(c, got, "(GPU)"), 10);
}

// The first layers on the GPU and the rest on the CPU (a GPU too small for the whole model): against
// transformers with the same bound (both backends compute in f32).
class CudaSplitReference : public ::testing::TestWithParam<int> {};

TEST_P(CudaSplitReference, MatchesTransformers) {
    GD_CUDA_TEST_SETUP(gpu);
    const nlohmann::json& c = reference_cases().at("cases").at(GetParam());
    const std::string path = tiny_model_path(variant_of_case(c), false);
    const TextConfig tc = ModelFiles::open({path}).config().text;
    int64_t n = tc.num_layers / 2;
    while (n > 0 && !TextDecoder::valid_split(tc, n)) --n;
    auto model = load_split_decoder(path, std::move(gpu), n);
    const auto got = run_all(*model->decoder, c.at("input_ids").get<std::vector<int32_t>>(), 64, 16);
    expect_matches_reference(c, got, "(split at " + std::to_string(n) + ")");
}

INSTANTIATE_TEST_SUITE_P(Cases, CudaDecoderReference, ::testing::Range(0, 8), reference_case_name);
INSTANTIATE_TEST_SUITE_P(Cases, CudaSplitReference, ::testing::Range(0, 8), reference_case_name);

// A prompt of `n` ids from the vocabulary's low range (tiny models have small vocabularies).
std::vector<int32_t> prompt_ids(int64_t n, int64_t vocab, uint32_t seed) {
    std::vector<int32_t> ids;
    uint32_t s = seed | 1u;
    for (int64_t i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        ids.push_back(static_cast<int32_t>(3 + (s >> 8) % static_cast<uint32_t>(vocab - 3)));
    }
    return ids;
}

struct StoredCase {
    Variant variant;
    DType type;
};

class CudaDecoderStored : public ::testing::TestWithParam<StoredCase> {};

const nlohmann::json& case_of(Variant v, const std::string& prompt) {
    for (const nlohmann::json& c : reference_cases().at("cases"))
        if (variant_of_case(c) == v && c.at("prompt") == prompt) return c;
    throw Error("no reference case " + std::string(variant_name(v)) + " " + prompt);
}

// GPU against CPU on the same GGUF file, in the two regimes of the GPU's products.
//
// Chunks of at most kMatvecMaxRows tokens go through the matrix-vector kernels: f32 activations, the
// stored weights decoded exactly, f32 sums — the same function as the CPU's. The short case (11
// tokens, as chunks of 8 + 3) then 3 decode steps must agree through every layer to the logits:
// each backend is within 3× the reference's f32 error of the exact result (test_decoder_reference),
// so the two differ by at most 6× that error.
//
// Longer chunks go through cuBLAS with the activations rounded to bf16 (relative 2^-9) — the CPU does
// not round them. These random tiny models are chaotic (a rounding difference doubles with every
// layer, see tests/text/test_decoder_consistency.cpp), so only the first attention block's output is
// compared there: q/k/v/o of rounded inputs move it by about 2 × 2^-9 = 3.9e-3; the bf16 bound 1e-2.
TEST_P(CudaDecoderStored, MatchesTheCpuBackend) {
    GD_CUDA_TEST_SETUP(gpu);
    const StoredCase sc = GetParam();
    const std::string path = tiny_model_path(sc.variant, true, sc.type);
    auto on_gpu = load_decoder_on(path, std::move(gpu));
    auto on_cpu = load_decoder(path);

    const nlohmann::json& small = case_of(sc.variant, "short");
    const double tol = 6 * small.at("f32_error").at("logits").get<double>();
    std::vector<int32_t> ids = small.at("input_ids").get<std::vector<int32_t>>();
    KvCache cg = on_gpu->decoder->make_cache(64, 8), cc = on_cpu->decoder->make_cache(64, 8);
    for (int stepno = 0; stepno < 4; ++stepno) {
        std::vector<float> g, c;
        on_gpu->decoder->forward(ids, cg, false, [&](int64_t, const float* r, int64_t n) { g.assign(r, r + n); });
        on_cpu->decoder->forward(ids, cc, false, [&](int64_t, const float* r, int64_t n) { c.assign(r, r + n); });
        EXPECT_LE(rel_l2(g, c), tol) << (stepno == 0 ? "prefill in chunks of 8" : "decode step") << " " << stepno;
        ids = {static_cast<int32_t>(argmax(c))};
    }

    const nlohmann::json& large = case_of(sc.variant, "long");
    const auto long_ids = large.at("input_ids").get<std::vector<int32_t>>();
    const auto g = run_all(*on_gpu->decoder, long_ids, 64, 64), c = run_all(*on_cpu->decoder, long_ids, 64, 64);
    EXPECT_LE(rel_l2(g.at("attn_out-0"), c.at("attn_out-0")), kBf16Tolerance) << "40-token prefill, first block";
}

std::string stored_name(const ::testing::TestParamInfo<StoredCase>& p) {
    std::string n = std::string(variant_name(p.param.variant)) + "_" + dtype_name(p.param.type);
    for (char& ch : n)
        if (ch == '-') ch = '_';
    return n;
}

INSTANTIATE_TEST_SUITE_P(Types, CudaDecoderStored,
                         ::testing::Values(StoredCase{Variant::E2B, DType::BF16}, StoredCase{Variant::E4B, DType::F16},
                                           StoredCase{Variant::A26B, DType::Q8_0},
                                           StoredCase{Variant::B31, DType::Q4_K}, StoredCase{Variant::E2B, DType::Q6_K},
                                           StoredCase{Variant::A26B, DType::BF16}),
                         stored_name);

// Greedy decoding with the token chosen on the device equals greedy decoding on the CPU, step by
// step, as long as the CPU's top two logits are not within the two backends' difference.
TEST(CudaGeneration, GreedyTokensMatchTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    const std::string path = tiny_model_path(Variant::E2B, false);
    auto on_gpu = load_decoder_on(path, std::move(gpu));
    auto on_cpu = load_decoder(path);
    Backend& b = on_gpu->decoder->backend();
    const int64_t vocab = on_cpu->decoder->config().vocab_size;
    KvCache cg = on_gpu->decoder->make_cache(64, 64), cc = on_cpu->decoder->make_cache(64, 64);
    std::vector<int32_t> in = prompt_ids(12, vocab, seed);
    SamplingParams greedy;
    greedy.temperature = 0;
    int checked = 0;
    for (int stepno = 0; stepno < 8; ++stepno) {
        const Tensor logits = on_gpu->decoder->forward_to_logits(in, {}, cg);
        const int32_t id = b.sample_token(logits, greedy, {}, 0.0);
        std::vector<float> c;
        on_cpu->decoder->forward(in, cc, false, [&](int64_t, const float* r, int64_t n) { c.assign(r, r + n); });
        std::vector<float> sorted = c;
        std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
        if (sorted[0] - sorted[1] > 1e-3f * std::max(1.0f, std::fabs(sorted[0]))) {
            EXPECT_EQ(id, argmax(c)) << "step " << stepno;
            ++checked;
        }
        const float lp = b.log_softmax_at(logits, id);
        double lse = 0;
        for (float v : c) lse += std::exp(static_cast<double>(v) - sorted[0]);
        EXPECT_NEAR(lp, c[static_cast<size_t>(id)] - sorted[0] - std::log(lse), 1e-4) << "step " << stepno;
        in = {id};
    }
    EXPECT_GE(checked, 4) << "too many near-ties to compare";
}

class CudaDecodeGraphs : public ::testing::TestWithParam<Variant> {};

// Decode steps recorded once and replayed (CUDA graphs) compute exactly what the same steps launched
// one by one compute: the same kernels on the same data in the same order, so the logits are equal
// bit for bit. 40 steps after a 9-token prompt, with chunks of 8, pass the sliding-window ring's end.
TEST_P(CudaDecodeGraphs, ReplayedStepsEqualEagerSteps) {
    GD_CUDA_TEST_SETUP(gpu);
    ::setenv("GD_CUDA_GRAPHS", "0", 1);
    std::string why;
    auto eager_backend = cuda_backend_or_null(why);
    ::unsetenv("GD_CUDA_GRAPHS");
    ASSERT_TRUE(eager_backend) << why;
    const std::string path = tiny_model_path(GetParam(), false);
    auto graphs = load_decoder_on(path, std::move(gpu));
    auto eager = load_decoder_on(path, std::move(eager_backend));
    const int64_t vocab = graphs->decoder->config().vocab_size;
    KvCache cg = graphs->decoder->make_cache(64, 8), ce = eager->decoder->make_cache(64, 8);
    std::vector<int32_t> in = prompt_ids(9, vocab, seed);
    SamplingParams greedy;
    greedy.temperature = 0;
    for (int stepno = 0; stepno < 40; ++stepno) {
        const Tensor lg = graphs->decoder->forward_to_logits(in, {}, cg);
        const Tensor le = eager->decoder->forward_to_logits(in, {}, ce);
        const auto hg = get(graphs->decoder->backend(), lg), he = get(eager->decoder->backend(), le);
        ASSERT_EQ(hg, he) << "step " << stepno;
        in = {eager->decoder->backend().sample_token(le, greedy, {}, 0.0)};
    }
    EXPECT_GE(graphs->decoder->backend().stats().steps_replayed, 37u) << "the steps were not replayed";
    EXPECT_EQ(eager->decoder->backend().stats().steps_replayed, 0u);
}

INSTANTIATE_TEST_SUITE_P(Variants, CudaDecodeGraphs, ::testing::Values(Variant::E2B, Variant::E4B, Variant::A26B, Variant::B31),
                         [](const ::testing::TestParamInfo<Variant>& p) {
                             std::string n = variant_name(p.param);
                             for (char& ch : n)
                                 if (ch == '-') ch = '_';
                             return n;
                         });

// The vision tower of the tiny E2B model on a 12×9-patch image (a 4×3 pooled grid): GPU vs CPU.
TEST(CudaTowers, VisionMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    const ModelFiles files = ModelFiles::open({tiny_model(Variant::E2B, false)});
    PatchedImage im;
    im.size.patch = 16;
    im.size.pool = 3;
    im.size.width = 12 * 16;
    im.size.height = 9 * 16;
    const auto pixels = random_values(static_cast<size_t>(12 * 9 * 16 * 16 * 3), seed, 0.0f, 1.0f);
    im.patches = pixels;
    for (int32_t gy = 0; gy < 9; ++gy)
        for (int32_t gx = 0; gx < 12; ++gx) {
            im.pos_x.push_back(gx);
            im.pos_y.push_back(gy);
        }
    auto cpu = make_cpu_backend(2);
    VisionEncoder enc_gpu(files, *gpu), enc_cpu(files, *cpu);
    const auto g = enc_gpu.encode(im), c = enc_cpu.encode(im);
    ASSERT_EQ(g.size(), c.size());
    // f32 weights: two f32 computations of 16+ layers; the CPU is within 3× the reference's f32 error.
    EXPECT_LE(rel_l2(g, c), 1e-4);
}

// The audio tower of the tiny E2B model on 1.3 s of a chirp with noise: GPU vs CPU.
TEST(CudaTowers, AudioMatchesTheCpu) {
    GD_CUDA_TEST_SETUP(gpu);
    const ModelFiles files = ModelFiles::open({tiny_model(Variant::E2B, false)});
    auto noise = random_values(20800, seed, -0.05f, 0.05f);
    for (size_t i = 0; i < noise.size(); ++i) {
        const double t = static_cast<double>(i) / 16000.0;
        noise[i] += static_cast<float>(0.4 * std::sin(2 * M_PI * (200 + 900 * t) * t));
    }
    const LogMel mel = log_mel_spectrogram(noise.data(), noise.size());
    auto cpu = make_cpu_backend(2);
    AudioEncoder enc_gpu(files, *gpu), enc_cpu(files, *cpu);
    const auto g = enc_gpu.encode(mel), c = enc_cpu.encode(mel);
    ASSERT_EQ(g.size(), c.size());
    EXPECT_LE(rel_l2(g, c), 1e-4);
}

}  // namespace
}  // namespace gd::test
