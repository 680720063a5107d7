// Row-wise and elementwise ops of the CPU backend: RMSNorm, RoPE, GELU-gated products, adds, scales
// and the logit softcap. All are cheap next to the matrix products, so they are plain loops the
// compiler vectorises, split over the thread pool by rows.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backend/cpu/cpu_backend.h"
#include "common/error.h"

namespace gd::cpu {

namespace {
void check_same_shape(const Tensor& a, const Tensor& b, const char* op) {
    if (a.rows != b.rows || a.cols != b.cols) throw Error(std::string(op) + ": tensor shapes differ");
}

// gelu with the tanh approximation ("gelu_pytorch_tanh").
inline float gelu_tanh(float x) {
    constexpr float kSqrt2OverPi = 0.7978845608028654f;
    return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}
}  // namespace

void CpuBackend::rms_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) {
    check_same_shape(x, y, "rms_norm");
    if (group <= 0 || x.cols % group != 0) throw Error("rms_norm: group does not divide the row");
    const float* w = nullptr;
    if (weight) {
        if (static_cast<int64_t>(weight->f32.size()) != group) {
            throw Error("rms_norm: weight " + weight->name + " has " + std::to_string(weight->f32.size()) +
                        " elements, expected " + std::to_string(group));
        }
        w = weight->f32.data();
    }
    for_rows(x.rows, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            const float* in = x.row(t);
            float* out = y.row(t);
            for (int64_t g0 = 0; g0 < x.cols; g0 += group) {
                // Sum of squares in double: the reference does it in f32, this is closer to the exact
                // value, and the difference is far below the f32 tolerance of the comparisons.
                double ss = 0.0;
                for (int64_t c = 0; c < group; ++c) ss += static_cast<double>(in[g0 + c]) * in[g0 + c];
                const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(group) + eps));
                if (w) {
                    for (int64_t c = 0; c < group; ++c) out[g0 + c] = in[g0 + c] * inv * w[c];
                } else {
                    for (int64_t c = 0; c < group; ++c) out[g0 + c] = in[g0 + c] * inv;
                }
            }
        }
    });
}

void CpuBackend::rope(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq, int64_t first_position) {
    const int64_t half = head_dim / 2;
    if (head_dim <= 0 || head_dim % 2 || x.cols % head_dim || static_cast<int64_t>(inv_freq.size()) != half) {
        throw Error("rope: head size does not fit the row or the frequency table");
    }
    const int64_t heads = x.cols / head_dim;
    for_rows(x.rows, 1, [&](int64_t b, int64_t e) {
        std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
        for (int64_t t = b; t < e; ++t) {
            // The angle is formed in f32 (position × inverse frequency) as the reference does, then
            // its cosine and sine are taken exactly.
            const float pos = static_cast<float>(first_position + t);
            for (int64_t j = 0; j < half; ++j) {
                const float a = pos * inv_freq[static_cast<size_t>(j)];
                cs[static_cast<size_t>(j)] = static_cast<float>(std::cos(static_cast<double>(a)));
                sn[static_cast<size_t>(j)] = static_cast<float>(std::sin(static_cast<double>(a)));
            }
            for (int64_t h = 0; h < heads; ++h) {
                float* v = x.row(t) + h * head_dim;
                for (int64_t j = 0; j < half; ++j) {
                    const float lo = v[j], hi = v[j + half];
                    v[j] = lo * cs[static_cast<size_t>(j)] - hi * sn[static_cast<size_t>(j)];
                    v[j + half] = hi * cs[static_cast<size_t>(j)] + lo * sn[static_cast<size_t>(j)];
                }
            }
        }
    });
}

void CpuBackend::gelu_mul(const Tensor& gate, const Tensor& up, const Tensor& out) {
    check_same_shape(gate, up, "gelu_mul");
    check_same_shape(gate, out, "gelu_mul");
    for_rows(gate.rows, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            const float* g = gate.row(t);
            const float* u = up.row(t);
            float* o = out.row(t);
            for (int64_t c = 0; c < gate.cols; ++c) o[c] = gelu_tanh(g[c]) * u[c];
        }
    });
}

void CpuBackend::add(const Tensor& a, const Tensor& b, const Tensor& out) {
    check_same_shape(a, b, "add");
    check_same_shape(a, out, "add");
    for (int64_t t = 0; t < a.rows; ++t) {
        const float* x = a.row(t);
        const float* y = b.row(t);
        float* o = out.row(t);
        for (int64_t c = 0; c < a.cols; ++c) o[c] = x[c] + y[c];
    }
}

void CpuBackend::copy(const Tensor& src, const Tensor& dst) {
    check_same_shape(src, dst, "copy");
    // Rows in parallel: one core alone does not reach the memory's bandwidth (the copy ceiling of
    // the benchmarks is measured with this op).
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, src.cols));
    for_rows(src.rows, grain, [&](int64_t b, int64_t e) {
        if (src.ld == src.cols && dst.ld == dst.cols) {
            std::memcpy(dst.row(b), src.row(b), static_cast<size_t>((e - b) * src.cols) * sizeof(float));
            return;
        }
        for (int64_t t = b; t < e; ++t) std::memcpy(dst.row(t), src.row(t), static_cast<size_t>(src.cols) * sizeof(float));
    });
}

void CpuBackend::scale(const Tensor& x, float s) {
    for (int64_t t = 0; t < x.rows; ++t) {
        float* v = x.row(t);
        for (int64_t c = 0; c < x.cols; ++c) v[c] *= s;
    }
}

void CpuBackend::mul_rows(const Tensor& x, const std::vector<float>& v) {
    if (static_cast<int64_t>(v.size()) != x.cols) throw Error("mul_rows: vector length differs from the row");
    for (int64_t t = 0; t < x.rows; ++t) {
        float* r = x.row(t);
        for (int64_t c = 0; c < x.cols; ++c) r[c] *= v[static_cast<size_t>(c)];
    }
}

void CpuBackend::softcap(const Tensor& x, float cap) {
    for_rows(x.rows, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            float* v = x.row(t);
            for (int64_t c = 0; c < x.cols; ++c) v[c] = cap * std::tanh(v[c] / cap);
        }
    });
}

}  // namespace gd::cpu
