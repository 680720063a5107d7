// The audio conformer's ops on the CPU backend (spec §4.3–4.5): the SSCP's channel LayerNorm and ReLU,
// SiLU and the GLU of the light convolution, its causal depthwise convolution, and the local attention
// with the relative-position term.
//
// None of these is heavy: a 30 s clip is 750 rows of 1024, and the attention looks at 12 keys per query
// (about 30 MFLOP per layer against ~25 GFLOP in the layer's matmuls), so they are plain loops split
// over rows. The matmuls of the tower go through the shared matmul kernels.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "backend/cpu/cpu_backend.h"
#include "common/error.h"

namespace gd::cpu {

namespace {

void require_shape(const Tensor& a, int64_t rows, int64_t cols, const char* op, const char* what) {
    if (a.rows != rows || a.cols != cols)
        throw Error(std::string(op) + ": " + what + " is " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                    ", expected " + std::to_string(rows) + " x " + std::to_string(cols));
}

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

void CpuBackend::layer_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) {
    require_shape(y, x.rows, x.cols, "layer_norm", "the output");
    if (group <= 0 || x.cols % group != 0) throw Error("layer_norm: group does not divide the row");
    const float* w = nullptr;
    if (weight) {
        if (static_cast<int64_t>(weight->f32.size()) != group)
            throw Error("layer_norm: weight " + weight->name + " has " + std::to_string(weight->f32.size()) +
                        " elements, expected " + std::to_string(group));
        w = weight->f32.data();
    }
    for_rows(x.rows, 16, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            const float* in = x.row(t);
            float* out = y.row(t);
            for (int64_t g0 = 0; g0 < x.cols; g0 += group) {
                // Two passes in double: the mean first, then the variance about it (no cancellation).
                double sum = 0.0;
                for (int64_t c = 0; c < group; ++c) sum += in[g0 + c];
                const double mean = sum / static_cast<double>(group);
                double ss = 0.0;
                for (int64_t c = 0; c < group; ++c) {
                    const double d = in[g0 + c] - mean;
                    ss += d * d;
                }
                const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(group) + eps));
                const float m = static_cast<float>(mean);
                for (int64_t c = 0; c < group; ++c) {
                    const float v = (in[g0 + c] - m) * inv;
                    out[g0 + c] = w ? v * w[c] : v;
                }
            }
        }
    });
}

void CpuBackend::relu(const Tensor& x) {
    for_rows(x.rows, 64, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            float* r = x.row(t);
            for (int64_t c = 0; c < x.cols; ++c) r[c] = std::max(r[c], 0.0f);
        }
    });
}

void CpuBackend::silu(const Tensor& x) {
    for_rows(x.rows, 8, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            float* r = x.row(t);
            for (int64_t c = 0; c < x.cols; ++c) r[c] = r[c] * sigmoid(r[c]);
        }
    });
}

void CpuBackend::glu(const Tensor& x, const Tensor& out) {
    const int64_t C = out.cols;
    require_shape(x, out.rows, 2 * C, "glu", "the input");
    if (x.data == out.data) throw Error("glu: the output may not alias the input");
    for_rows(x.rows, 8, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            const float* in = x.row(t);
            float* o = out.row(t);
            for (int64_t c = 0; c < C; ++c) o[c] = in[c] * sigmoid(in[C + c]);
        }
    });
}

void CpuBackend::causal_depthwise_conv(const Tensor& x, const std::vector<float>& taps, int64_t K, const Tensor& out) {
    require_shape(out, x.rows, x.cols, "causal_depthwise_conv", "the output");
    if (K <= 0 || static_cast<int64_t>(taps.size()) != x.cols * K)
        throw Error("causal_depthwise_conv: " + std::to_string(taps.size()) + " taps for " + std::to_string(x.cols) +
                    " channels of kernel " + std::to_string(K));
    if (x.data == out.data) throw Error("causal_depthwise_conv: the output may not alias the input");
    const int64_t C = x.cols;
    for_rows(x.rows, 8, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            float* o = out.row(t);
            std::fill(o, o + C, 0.0f);
            for (int64_t j = 0; j < K; ++j) {
                const int64_t src = t - K + 1 + j;
                if (src < 0) continue;
                const float* in = x.row(src);
                for (int64_t c = 0; c < C; ++c) o[c] += taps[static_cast<size_t>(c * K + j)] * in[c];
            }
        }
    });
}

void CpuBackend::attention_local(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel, int64_t heads,
                                 int64_t head_dim, int64_t window, float cap, const Tensor& out) {
    const int64_t T = q.rows, W = heads * head_dim;
    if (heads <= 0 || head_dim <= 0 || window <= 0 || !(cap > 0))
        throw Error("attention_local: heads, head size, window and cap must be positive");
    require_shape(q, T, W, "attention_local", "q");
    require_shape(k, T, W, "attention_local", "k");
    require_shape(v, T, W, "attention_local", "v");
    require_shape(out, T, W, "attention_local", "the output");
    require_shape(rel, window, W, "attention_local", "the relative-position table");
    if (out.data == q.data || out.data == k.data || out.data == v.data)
        throw Error("attention_local: the output may not alias q, k or v");
    for_rows(T, 4, [&](int64_t b, int64_t e) {
        std::vector<float> logit(static_cast<size_t>(window));
        for (int64_t t = b; t < e; ++t) {
            const int64_t n = std::min(window, t + 1);  // distances 0..n-1
            for (int64_t h = 0; h < heads; ++h) {
                const float* qt = q.row(t) + h * head_dim;
                float top = -INFINITY;
                for (int64_t d = 0; d < n; ++d) {
                    const float* ks = k.row(t - d) + h * head_dim;
                    const float* rd = rel.row(d) + h * head_dim;
                    // The content and position terms as two dot products, added afterwards, as the
                    // reference forms them (two matmuls, then a sum).
                    float ac = 0.0f, bd = 0.0f;
                    for (int64_t i = 0; i < head_dim; ++i) {
                        ac += qt[i] * ks[i];
                        bd += qt[i] * rd[i];
                    }
                    const float l = cap * std::tanh((ac + bd) / cap);
                    logit[static_cast<size_t>(d)] = l;
                    top = std::max(top, l);
                }
                float sum = 0.0f;
                for (int64_t d = 0; d < n; ++d) {
                    const float p = std::exp(logit[static_cast<size_t>(d)] - top);
                    logit[static_cast<size_t>(d)] = p;
                    sum += p;
                }
                float* o = out.row(t) + h * head_dim;
                std::fill(o, o + head_dim, 0.0f);
                for (int64_t d = 0; d < n; ++d) {
                    const float p = logit[static_cast<size_t>(d)] / sum;
                    const float* vs = v.row(t - d) + h * head_dim;
                    for (int64_t i = 0; i < head_dim; ++i) o[i] += p * vs[i];
                }
            }
        }
    });
}

}  // namespace gd::cpu
