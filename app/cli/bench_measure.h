#pragma once
// What `gemmadesk-cli bench` measures, through the engine API the app uses (Model, Session): prefill
// speed at each prompt length, batch-1 decode speed, the vision tower at each image budget, the audio
// tower on a clip, time to first token for an image plus a question, peak memory, and optionally the
// backend's copy and bf16 ceilings with the decode roofline they give.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "backend/ceilings.h"
#include "catalog/decode_traffic.h"
#include "engine/engine.h"

namespace gd::cli {

struct BenchRequest {
    std::vector<int64_t> prompt_lengths{512};  // each prefilled on an empty cache
    int64_t gen_tokens = 128;                   // decoded after the first prompt length
    int repetitions = 1;                        // of every timing; the mean is reported
    std::vector<int64_t> image_budgets;         // vision tower timings (soft tokens); empty = none
    double audio_seconds = 0;                   // audio tower timing on a clip this long; 0 = none
    int64_t ttft_image_budget = 0;              // time to first token with an image of this budget; 0 = none
    int64_t ttft_question_tokens = 50;          //   and a question of about this many tokens
    bool ceilings = false;                      // measure the backend's copy and bf16 ceilings
    double bandwidth = 0;                       // bytes/s to take as the copy ceiling (0: measured, if asked)

    // Positions a session needs for all of it.
    int64_t context_needed() const;
};

struct BenchResult {
    struct Prefill {
        int64_t tokens = 0;
        double tokens_per_second = 0;
        double first_token_ms = 0;  // prefill plus the first sampled token
    };
    struct Encode {
        int64_t budget = 0;   // soft tokens asked for (images)
        int64_t tokens = 0;   // soft tokens produced
        double ms = 0;
    };
    std::vector<Prefill> prefill;
    double decode_tokens_per_second = 0;
    std::vector<Encode> images;
    std::optional<Encode> audio;           // tokens: soft tokens of the clip; budget: its length in ms
    std::optional<double> ttft_image_ms;   // image encode + prefill + first token
    int64_t ttft_image_prompt_tokens = 0;
    std::optional<Ceilings> ceilings;
    double bandwidth = 0;                  // the copy ceiling the roofline uses (bytes/s), 0 = none
    DecodeTraffic traffic;
    bool one_device = true;                // every layer on the model's backend (a roofline applies)
    uint64_t peak_rss_bytes = 0;
    uint64_t backend_bytes = 0;            // the model backend's weights + its peak buffers
    uint64_t gpu_used_bytes = 0;           // the GPU's memory in use at the end (its pool keeps the peak)

    double roofline_tokens_per_second() const;  // bandwidth / bytes per token (0 when unknown)
    double roofline_fraction() const;           // decode / roofline (0 when unknown)
};

// Throws gd::Error when the model lacks a tower that was asked for.
BenchResult run_bench(const std::shared_ptr<Model>& model, const BenchRequest& request);

}  // namespace gd::cli
