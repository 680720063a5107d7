// The feed-forward block of a decoder layer: the dense GeGLU MLP (spec §2.8) and, on 26B-A4B, the
// mixture of experts beside it (spec §2.9): router on the weight-less-normalised residual, softmax
// over all experts, top-k, renormalise, per-expert scale; five FFN norms in all.
#include <cmath>

#include "text/decoder.h"

namespace gd {

Tensor TextDecoder::dense_mlp(Backend& b, const LayerWeights& l, const Tensor& h) {
    const int64_t T = h.rows, I = l.gate.rows;
    Tensor g = b.alloc(T, I), u = b.alloc(T, I);
    b.matmul(l.gate, h, g);
    b.matmul(l.up, h, u);
    b.gelu_mul(g, u, g);
    Tensor y = b.alloc(T, text_.hidden_size);
    b.matmul(l.down, g, y);
    return y;
}

// The router's input and logits (spec §2.9): RMSNorm without weight, times router_scale · H^-1/2,
// then the router matrix; the backend picks the top-k experts on the device.
Tensor TextDecoder::route(Backend& b, const LayerWeights& l, const Tensor& x) {
    const int64_t T = x.rows, H = text_.hidden_size, E = text_.num_experts, K = text_.top_k_experts;
    Tensor z = b.alloc(T, H);
    b.rms_norm(x, nullptr, H, eps_, z);
    std::vector<float> scale = l.router_scale.f32;
    const float root = static_cast<float>(1.0 / std::sqrt(static_cast<double>(H)));
    for (float& s : scale) s *= root;
    b.mul_rows(z, scale);
    Tensor logits = b.alloc(T, E);
    b.matmul(l.router, z, logits);
    Tensor routing = b.alloc(T, 2 * K);
    b.moe_route(logits, K, l.expert_scale, routing);
    return routing;
}

void TextDecoder::ffn_block(int64_t layer, const Tensor& x) {
    const LayerWeights& l = w_.layers[static_cast<size_t>(layer)];
    const int64_t T = x.rows, H = text_.hidden_size;
    Backend& b = layer_backend(layer);
    Tensor h = b.alloc(T, H);
    b.rms_norm(x, &l.ffn_norm, H, eps_, h);
    Tensor y = dense_mlp(b, l, h);
    if (!text_.enable_moe_block) {
        b.rms_norm(y, &l.post_ffw_norm, H, eps_, y);
        b.add(x, y, x);
        return;
    }
    // MoE layer: x += RMSNorm_post( RMSNorm_post1(mlp) + RMSNorm_post2(experts) ).
    b.rms_norm(y, &l.post_ffw_norm_1, H, eps_, y);
    const Tensor routing = route(b, l, x);
    Tensor u = b.alloc(T, H);
    b.rms_norm(x, &l.pre_ffw_norm_2, H, eps_, u);
    Tensor y2 = b.alloc(T, H);
    b.moe_experts_routed(u, routing, l.gate_up_exps, l.down_exps, y2);
    b.rms_norm(y2, &l.post_ffw_norm_2, H, eps_, y2);
    b.add(y, y2, y);
    b.rms_norm(y, &l.post_ffw_norm, H, eps_, y);
    b.add(x, y, x);
}

}  // namespace gd
