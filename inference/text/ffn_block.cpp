// The feed-forward block of a decoder layer: the dense GeGLU MLP (spec §2.8) and, on 26B-A4B, the
// mixture of experts beside it (spec §2.9): router on the weight-less-normalised residual, softmax
// over all experts, top-k, renormalise, per-expert scale; five FFN norms in all.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "text/decoder.h"

namespace gd {

Tensor TextDecoder::dense_mlp(const LayerWeights& l, const Tensor& h) {
    const int64_t T = h.rows, I = l.gate.rows;
    Tensor g = backend_.alloc(T, I), u = backend_.alloc(T, I);
    backend_.matmul(l.gate, h, g);
    backend_.matmul(l.up, h, u);
    backend_.gelu_mul(g, u, g);
    Tensor y = backend_.alloc(T, text_.hidden_size);
    backend_.matmul(l.down, g, y);
    return y;
}

ExpertRouting TextDecoder::route(const LayerWeights& l, const Tensor& x) {
    const int64_t T = x.rows, H = text_.hidden_size, E = text_.num_experts, K = text_.top_k_experts;
    Tensor z = backend_.alloc(T, H);
    backend_.rms_norm(x, nullptr, H, eps_, z);
    std::vector<float> scale = l.router_scale.f32;
    const float root = static_cast<float>(1.0 / std::sqrt(static_cast<double>(H)));
    for (float& s : scale) s *= root;
    backend_.mul_rows(z, scale);
    Tensor logits = backend_.alloc(T, E);
    backend_.matmul(l.router, z, logits);
    std::vector<float> host(static_cast<size_t>(T * E));
    backend_.download(logits, host.data());

    ExpertRouting r;
    r.tokens = T;
    r.k = K;
    r.ids.resize(static_cast<size_t>(T * K));
    r.weights.resize(static_cast<size_t>(T * K));
    std::vector<double> prob(static_cast<size_t>(E));
    std::vector<int32_t> order(static_cast<size_t>(E));
    for (int64_t t = 0; t < T; ++t) {
        const float* lg = host.data() + t * E;
        const float mx = *std::max_element(lg, lg + E);
        double sum = 0;
        for (int64_t e = 0; e < E; ++e) sum += prob[static_cast<size_t>(e)] = std::exp(static_cast<double>(lg[e] - mx));
        for (double& p : prob) p /= sum;
        std::iota(order.begin(), order.end(), 0);
        // Highest probability first; ties to the lower expert id, as torch.topk does on the CPU.
        std::partial_sort(order.begin(), order.begin() + K, order.end(), [&](int32_t a, int32_t b) {
            return prob[static_cast<size_t>(a)] > prob[static_cast<size_t>(b)] ||
                   (prob[static_cast<size_t>(a)] == prob[static_cast<size_t>(b)] && a < b);
        });
        double top = 0;
        for (int64_t j = 0; j < K; ++j) top += prob[static_cast<size_t>(order[static_cast<size_t>(j)])];
        for (int64_t j = 0; j < K; ++j) {
            const int32_t e = order[static_cast<size_t>(j)];
            r.ids[static_cast<size_t>(t * K + j)] = e;
            r.weights[static_cast<size_t>(t * K + j)] =
                static_cast<float>(prob[static_cast<size_t>(e)] / top) * l.expert_scale.f32[static_cast<size_t>(e)];
        }
    }
    return r;
}

void TextDecoder::ffn_block(int64_t layer, const Tensor& x) {
    const LayerWeights& l = w_.layers[static_cast<size_t>(layer)];
    const int64_t T = x.rows, H = text_.hidden_size;
    Tensor h = backend_.alloc(T, H);
    backend_.rms_norm(x, &l.ffn_norm, H, eps_, h);
    Tensor y = dense_mlp(l, h);
    if (!text_.enable_moe_block) {
        backend_.rms_norm(y, &l.post_ffw_norm, H, eps_, y);
        backend_.add(x, y, x);
        return;
    }
    // MoE layer: x += RMSNorm_post( RMSNorm_post1(mlp) + RMSNorm_post2(experts) ).
    backend_.rms_norm(y, &l.post_ffw_norm_1, H, eps_, y);
    const ExpertRouting routing = route(l, x);
    Tensor u = backend_.alloc(T, H);
    backend_.rms_norm(x, &l.pre_ffw_norm_2, H, eps_, u);
    Tensor y2 = backend_.alloc(T, H);
    backend_.moe_experts(u, routing, l.gate_up_exps, l.down_exps, y2);
    backend_.rms_norm(y2, &l.post_ffw_norm_2, H, eps_, y2);
    backend_.add(y, y2, y);
    backend_.rms_norm(y, &l.post_ffw_norm, H, eps_, y);
    backend_.add(x, y, x);
}

}  // namespace gd
