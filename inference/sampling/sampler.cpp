#include "sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "common/error.h"

namespace gd {

int32_t argmax(std::span<const float> logits) {
    int32_t best = -1;
    for (size_t i = 0; i < logits.size(); ++i)
        if (std::isfinite(logits[i]) && (best < 0 || logits[i] > logits[static_cast<size_t>(best)])) best = static_cast<int32_t>(i);
    if (best < 0) throw Error("the model produced no finite logit (all NaN or infinite)");
    return best;
}

Sampler::Sampler(const SamplingParams& p) : p_(p), state_(p.seed) {
    if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) throw Error("temperature must be 0 or more");
    if (p.top_k < 0) throw Error("top_k must be 0 (off) or more");
    if (!(p.top_p > 0 && p.top_p <= 1)) throw Error("top_p must be in (0, 1]");
    if (!(p.min_p >= 0 && p.min_p <= 1)) throw Error("min_p must be in [0, 1]");
    if (!(p.repetition_penalty > 0) || !std::isfinite(p.repetition_penalty)) throw Error("repetition_penalty must be positive");
    if (!std::isfinite(p.presence_penalty) || !std::isfinite(p.frequency_penalty)) throw Error("penalties must be finite");
    if (p.penalty_window < 0) throw Error("penalty_window must be 0 (all) or more");
}

double Sampler::next_uniform() {
    // splitmix64: tiny, fast, and fully specified, unlike std::uniform_real_distribution.
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * (1.0 / 9007199254740992.0);
}

std::vector<std::pair<int32_t, float>> Sampler::candidates(std::span<const float> logits, std::span<const int32_t> recent) const {
    const size_t n = logits.size();
    std::vector<std::pair<int32_t, float>> c;  // (token, logit) then (token, probability)
    c.reserve(n);
    for (size_t i = 0; i < n; ++i)
        if (std::isfinite(logits[i])) c.emplace_back(static_cast<int32_t>(i), logits[i]);
    if (c.empty()) throw Error("the model produced no finite logit (all NaN or infinite)");

    // 1. Penalties over the recent window.
    if (p_.repetition_penalty != 1.0f || p_.presence_penalty != 0.0f || p_.frequency_penalty != 0.0f) {
        const size_t window = p_.penalty_window == 0 ? recent.size() : std::min(recent.size(), static_cast<size_t>(p_.penalty_window));
        std::unordered_map<int32_t, int> count;
        for (size_t k = recent.size() - window; k < recent.size(); ++k) ++count[recent[k]];
        for (auto& [tok, logit] : c) {
            auto it = count.find(tok);
            if (it == count.end()) continue;
            logit = logit > 0 ? logit / p_.repetition_penalty : logit * p_.repetition_penalty;
            logit -= p_.presence_penalty + p_.frequency_penalty * static_cast<float>(it->second);
        }
    }
    // Greedy: the single best token, probability 1.
    if (p_.temperature == 0.0f) {
        auto best = std::max_element(c.begin(), c.end(), [](const auto& a, const auto& b) {
            return a.second < b.second || (a.second == b.second && a.first > b.first);
        });
        return {{best->first, 1.0f}};
    }
    // 2. Temperature, then sort by logit (ties by token id, so the order is deterministic).
    for (auto& e : c) e.second /= p_.temperature;
    std::sort(c.begin(), c.end(), [](const auto& a, const auto& b) { return a.second > b.second || (a.second == b.second && a.first < b.first); });
    // 3. Top-k.
    if (p_.top_k > 0 && c.size() > static_cast<size_t>(p_.top_k)) c.resize(static_cast<size_t>(p_.top_k));
    // Softmax in double for stable cumulative sums.
    const double mx = c.front().second;
    double sum = 0;
    std::vector<double> prob(c.size());
    for (size_t i = 0; i < c.size(); ++i) sum += prob[i] = std::exp(static_cast<double>(c[i].second) - mx);
    for (auto& q : prob) q /= sum;
    // 4. Top-p: the smallest prefix whose mass reaches top_p (at least one token).
    size_t keep = c.size();
    if (p_.top_p < 1.0f) {
        double cum = 0;
        for (size_t i = 0; i < c.size(); ++i) {
            cum += prob[i];
            if (cum >= p_.top_p) {
                keep = i + 1;
                break;
            }
        }
    }
    // 5. Min-p relative to the most likely token.
    if (p_.min_p > 0) {
        size_t k = 1;
        while (k < keep && prob[k] >= p_.min_p * prob[0]) ++k;
        keep = k;
    }
    c.resize(keep);
    double kept = 0;
    for (size_t i = 0; i < keep; ++i) kept += prob[i];
    for (size_t i = 0; i < keep; ++i) c[i].second = static_cast<float>(prob[i] / kept);
    return c;
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> recent) {
    const auto c = candidates(logits, recent);
    if (c.size() == 1) return c.front().first;
    return pick(c, next_uniform());
}

int32_t Sampler::sample_with(std::span<const float> logits, std::span<const int32_t> recent, double u) const {
    return pick(candidates(logits, recent), u);
}

int32_t Sampler::pick(const std::vector<std::pair<int32_t, float>>& c, double u) {
    if (c.size() == 1) return c.front().first;
    double cum = 0;
    for (const auto& [tok, q] : c) {
        cum += q;
        if (u < cum) return tok;
    }
    return c.back().first;  // rounding left u just above the total
}

}  // namespace gd
