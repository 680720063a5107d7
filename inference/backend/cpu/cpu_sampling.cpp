// Choosing a token on the CPU backend: the host sampler's own rules over the row in place, and the
// log-probability of the chosen token (the GPU backend does the same on the device).
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "backend/cpu/cpu_backend.h"
#include "common/error.h"

namespace gd::cpu {

int32_t CpuBackend::sample_token(const Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& recent,
                                 double uniform) {
    if (logits.rows != 1) throw Error("sample_token: one row of logits expected");
    const std::span<const float> row(logits.data, static_cast<size_t>(logits.cols));
    if (p.temperature <= 0) {
        SamplingParams greedy = p;
        greedy.temperature = 0;
        return Sampler(greedy).sample_with(row, recent, 0.0);
    }
    return Sampler(p).sample_with(row, recent, uniform);
}

float CpuBackend::log_softmax_at(const Tensor& logits, int32_t id) {
    if (logits.rows != 1 || id < 0 || id >= logits.cols) throw Error("log_softmax_at: bad row or id");
    const float* x = logits.data;
    float mx = x[0];
    for (int64_t i = 0; i < logits.cols; ++i) {
        if (!std::isfinite(x[i])) return std::numeric_limits<float>::quiet_NaN();
        mx = std::max(mx, x[i]);
    }
    double sum = 0;
    for (int64_t i = 0; i < logits.cols; ++i) sum += std::exp(static_cast<double>(x[i]) - mx);
    return static_cast<float>(static_cast<double>(x[id]) - mx - std::log(sum));
}

}  // namespace gd::cpu
