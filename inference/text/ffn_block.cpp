// The feed-forward block of a decoder layer: the dense GeGLU MLP (spec §2.8) and, on 26B-A4B, the
// mixture of experts beside it (spec §2.9): router on the weight-less-normalised residual, softmax
// over all experts, top-k, renormalise, per-expert scale; five FFN norms in all.
#include <cmath>

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

// The router's input and logits (spec §2.9): RMSNorm without weight, times router_scale · H^-1/2,
// then the router matrix; the backend picks the top-k experts on the device.
Tensor TextDecoder::route(const LayerWeights& l, const Tensor& x) {
    const int64_t T = x.rows, H = text_.hidden_size, E = text_.num_experts, K = text_.top_k_experts;
    Tensor z = backend_.alloc(T, H);
    backend_.rms_norm(x, nullptr, H, eps_, z);
    std::vector<float> scale = l.router_scale.f32;
    const float root = static_cast<float>(1.0 / std::sqrt(static_cast<double>(H)));
    for (float& s : scale) s *= root;
    backend_.mul_rows(z, scale);
    Tensor logits = backend_.alloc(T, E);
    backend_.matmul(l.router, z, logits);
    Tensor routing = backend_.alloc(T, 2 * K);
    backend_.moe_route(logits, K, l.expert_scale, routing);
    return routing;
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
    const Tensor routing = route(l, x);
    Tensor u = backend_.alloc(T, H);
    backend_.rms_norm(x, &l.pre_ffw_norm_2, H, eps_, u);
    Tensor y2 = backend_.alloc(T, H);
    backend_.moe_experts_routed(u, routing, l.gate_up_exps, l.down_exps, y2);
    backend_.rms_norm(y2, &l.post_ffw_norm_2, H, eps_, y2);
    backend_.add(y, y2, y);
    backend_.rms_norm(y, &l.post_ffw_norm, H, eps_, y);
    backend_.add(x, y, x);
}

}  // namespace gd
