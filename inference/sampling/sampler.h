#pragma once
// Choosing the next token from the logits: greedy, or sampling with temperature, top-k, top-p and
// min-p after repetition / presence / frequency penalties, from a seeded generator so the same seed
// gives the same text. The order of the steps is transformers' (penalties, temperature, top-k,
// top-p, min-p) and is fixed here, in one place.
#include <cstdint>
#include <span>
#include <vector>

namespace gd {

struct SamplingParams {
    float temperature = 1.0f;        // 0 = greedy
    int32_t top_k = 64;              // 0 = off
    float top_p = 0.95f;             // 1 = off
    float min_p = 0.0f;              // 0 = off; keep tokens with p >= min_p * p_max
    float repetition_penalty = 1.0f; // 1 = off; transformers' rule: positive logits / r, negative * r
    float presence_penalty = 0.0f;   // subtracted once from every token seen in the window
    float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
    int32_t penalty_window = 64;     // how many recent tokens the penalties look at (0 = all)
    uint64_t seed = 0;
};

// Index of the largest finite logit (ties: the lowest index). Throws gd::Error when none is finite.
int32_t argmax(std::span<const float> logits);

class Sampler {
public:
    explicit Sampler(const SamplingParams& p);
    // Throws gd::Error for invalid parameters (negative temperature, top_p outside (0, 1], ...).

    // Chooses a token. `recent` are the tokens generated or given so far (for the penalties).
    int32_t sample(std::span<const float> logits, std::span<const int32_t> recent);

    // The probabilities sample() draws from (after every step), for tests and for showing them.
    std::vector<std::pair<int32_t, float>> candidates(std::span<const float> logits, std::span<const int32_t> recent) const;

    // The same choice with the draw given: `u` in [0, 1) (used only when more than one candidate
    // remains). sample() is next_uniform() + this; a backend that samples on the device draws u here.
    int32_t sample_with(std::span<const float> logits, std::span<const int32_t> recent, double u) const;
    // Picks from candidates() by the cumulative probability u.
    static int32_t pick(const std::vector<std::pair<int32_t, float>>& candidates, double u);
    // The next value of the seeded generator ([0, 1), 53 bits, the same sequence on every platform).
    double next_uniform();

    void reseed(uint64_t seed) { state_ = seed; }
    const SamplingParams& params() const { return p_; }

private:
    SamplingParams p_;
    uint64_t state_;
};

}  // namespace gd
