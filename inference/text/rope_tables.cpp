#include "text/rope_tables.h"

#include <cmath>

namespace gd {

std::vector<float> rope_inv_freq(const TextConfig& c, LayerKind kind) {
    const bool full = kind == LayerKind::Full;
    const int64_t d = full ? c.global_head_dim : c.head_dim;
    const double theta = full ? c.rope_theta_full : c.rope_theta_sliding;
    const int64_t rotated = full ? static_cast<int64_t>(c.partial_rotary_factor_full * static_cast<double>(d) / 2.0) : d / 2;
    std::vector<float> f(static_cast<size_t>(d / 2), 0.0f);
    for (int64_t j = 0; j < rotated && j < d / 2; ++j) {
        // transformers: 1.0 / (base ** (arange(0, d, 2).float() / d)), in f32.
        const float exponent = static_cast<float>(2 * j) / static_cast<float>(d);
        const float power = static_cast<float>(std::pow(theta, static_cast<double>(exponent)));
        f[static_cast<size_t>(j)] = 1.0f / power;
    }
    return f;
}

}  // namespace gd
