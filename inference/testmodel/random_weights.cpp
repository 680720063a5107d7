#include "testmodel/random_weights.h"

#include <cmath>

namespace gd {
namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace

WeightInit::WeightInit(const ExpectedTensor& t, uint64_t seed, const ModelConfig& c) {
    key_ = splitmix64(seed ^ fnv1a(t.name));
    const std::string& n = t.name;
    auto set = [&](float lo, float hi) { lo_ = lo; hi_ = hi; };
    if (n == "rope_freqs.weight") {
        kind_ = Kind::RopeFreqs;
        rotated_pairs_ = static_cast<uint64_t>(c.text.partial_rotary_factor_full * static_cast<double>(c.text.global_head_dim) / 2);
    } else if (n.ends_with(".input_min")) set(-6.f, -2.f);
    else if (n.ends_with(".input_max")) set(2.f, 6.f);
    else if (n.ends_with(".output_min")) set(-10.f, -4.f);
    else if (n.ends_with(".output_max")) set(4.f, 10.f);
    else if (contains(n, "layer_output_scale")) set(0.3f, 0.9f);
    else if (contains(n, "per_dim_scale") || contains(n, "per_dim_k_scale")) set(-0.5f, 0.5f);
    else if (n.ends_with("_exps.scale") || n.ends_with("gate_inp.scale")) set(0.5f, 1.5f);
    else if (n == "v.std_bias" || n.ends_with(".bias")) set(-0.1f, 0.1f);
    else if (n == "v.std_scale") set(0.8f, 1.2f);
    else if (contains(n, "norm") || contains(n, "ln1") || contains(n, "ln2")) set(0.5f, 1.5f);
    else if (n == "token_embd.weight" || n == "per_layer_token_embd.weight" || n == "v.position_embd.weight") set(-1.f, 1.f);
    else {
        // Matrices: uniform with variance 1/fan_in, so activations keep their scale.
        uint64_t fan_in = t.shape.empty() ? 1 : t.shape.back();
        if (t.shape.size() == 4) fan_in = t.shape[1] * t.shape[2] * t.shape[3];  // conv kernels
        else if (t.shape.size() == 3 && t.shape[1] == 1) fan_in = t.shape[2];   // depthwise conv
        const float a = std::sqrt(3.0f / static_cast<float>(std::max<uint64_t>(1, fan_in)));
        set(-a, a);
    }
}

namespace {

// A 32-bit integer hash (Chris Wellons' lowbias32): good avalanche, and 32-bit multiplies vectorise.
inline uint32_t hash32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

// Element `index` of the stream `key`: the low 32 bits of the index go through the hash, the high
// bits (tensors over 4 Gi elements) change the key.
inline uint32_t element_bits(uint64_t key, uint64_t index) {
    const uint32_t k = static_cast<uint32_t>(key ^ (key >> 32)) ^ static_cast<uint32_t>(splitmix64(index >> 32));
    return hash32(static_cast<uint32_t>(index) * 0x9e3779b9u + k);
}

}  // namespace

float WeightInit::value(uint64_t index) const {
    if (kind_ == Kind::RopeFreqs) return index < rotated_pairs_ ? 1.0f : 1e30f;
    const float u = static_cast<float>(element_bits(key_, index) >> 8) * (1.0f / 16777216.0f);  // [0, 1), 24 bits
    return lo_ + (hi_ - lo_) * u;
}

void WeightInit::fill(uint64_t index0, float* out, uint64_t n) const {
    if (kind_ != Kind::Uniform || (index0 >> 32) != ((index0 + n) >> 32)) {
        for (uint64_t k = 0; k < n; ++k) out[k] = value(index0 + k);
        return;
    }
    const uint32_t k32 = static_cast<uint32_t>(key_ ^ (key_ >> 32)) ^ static_cast<uint32_t>(splitmix64(index0 >> 32));
    const uint32_t i0 = static_cast<uint32_t>(index0);
    const float lo = lo_, span = hi_ - lo_;
    for (uint64_t k = 0; k < n; ++k) {
        const uint32_t bits = hash32((i0 + static_cast<uint32_t>(k)) * 0x9e3779b9u + k32);
        out[k] = lo + span * (static_cast<float>(bits >> 8) * (1.0f / 16777216.0f));
    }
}

}  // namespace gd
