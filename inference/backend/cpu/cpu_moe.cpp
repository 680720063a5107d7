// Mixture-of-experts pass for the CPU backend: tokens are grouped by expert so each expert's weights
// are read once per call, then every expert's GeGLU output is added into its tokens' rows with the
// routing weight. Experts are visited in ascending id, as the reference does.
#include <map>

#include "backend/cpu/cpu_backend.h"
#include "backend/moe_routing.h"
#include "common/error.h"

namespace gd::cpu {

void CpuBackend::moe_experts(const Tensor& x, const ExpertRouting& r, const Weight& gate_up, const Weight& down,
                             const Tensor& out) {
    check_moe_experts(x, r, gate_up, down, out);
    const int64_t I = gate_up.rows / 2;
    const auto slots_of_expert = slots_by_expert(r);
    for (int64_t t = 0; t < out.rows; ++t) std::fill(out.row(t), out.row(t) + out.cols, 0.0f);
    for (const auto& [e, slots] : slots_of_expert) {
        const int64_t n = static_cast<int64_t>(slots.size());
        Tensor xe = alloc(n, x.cols), gu = alloc(n, 2 * I), h = alloc(n, I), y = alloc(n, out.cols);
        for (int64_t j = 0; j < n; ++j) {
            const int64_t t = slots[static_cast<size_t>(j)] / r.k;
            std::copy(x.row(t), x.row(t) + x.cols, xe.row(j));
        }
        matmul(gate_up, xe, gu, e);
        gelu_mul(gu.view_cols(0, I), gu.view_cols(I, I), h);
        matmul(down, h, y, e);
        for (int64_t j = 0; j < n; ++j) {
            const int64_t s = slots[static_cast<size_t>(j)], t = s / r.k;
            const float w = r.weights[static_cast<size_t>(s)];
            float* o = out.row(t);
            const float* ye = y.row(j);
            for (int64_t c = 0; c < out.cols; ++c) o[c] += w * ye[c];
        }
    }
}

void CpuBackend::moe_route(const Tensor& logits, int64_t k, const Weight& expert_scale, const Tensor& routing) {
    const int64_t T = logits.rows, E = logits.cols;
    if (routing.rows != T || routing.cols != 2 * k || static_cast<int64_t>(expert_scale.f32.size()) != E) {
        throw Error("moe_route: shapes do not fit");
    }
    std::vector<float> lg(static_cast<size_t>(T * E)), out(static_cast<size_t>(T * 2 * k));
    download(logits, lg.data());
    route_experts(lg.data(), T, E, k, expert_scale.f32.data(), out.data());
    upload(out.data(), routing);
}

void CpuBackend::moe_experts_routed(const Tensor& x, const Tensor& routing, const Weight& gate_up, const Weight& down,
                                    const Tensor& out) {
    if (routing.cols % 2 || routing.rows != x.rows) throw Error("moe_experts: routing shape does not fit");
    std::vector<float> host(static_cast<size_t>(routing.elements()));
    download(routing, host.data());
    moe_experts(x, unpack_routing(host.data(), routing.rows, routing.cols / 2), gate_up, down, out);
}

}  // namespace gd::cpu
