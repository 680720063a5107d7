// Per-layer embeddings of E2B/E4B (spec §2.10): a token part read from the large PLE table (one row
// per token, from host memory) and a context part projected from the scaled embeddings, combined
// once before the layers; then in each layer a gated branch after the FFN residual.
#include <cmath>

#include "text/decoder.h"

namespace gd {

Tensor TextDecoder::per_layer_inputs(const std::vector<int32_t>& ids, const Tensor& x) {
    const int64_t T = x.rows, H = text_.hidden_size, P = text_.hidden_size_per_layer_input;
    const int64_t LP = text_.num_layers * P;
    // Token part: embed_tokens_per_layer[id] * sqrt(P).
    Tensor tok = backend_.alloc(T, LP);
    backend_.get_rows(w_.ple_table, ids, static_cast<float>(std::sqrt(static_cast<double>(P))), tok);
    // Context part: RMSNorm_P((x · W_projᵀ) * H^-1/2), normalising each layer's P-vector.
    Tensor ctx = backend_.alloc(T, LP);
    backend_.matmul(w_.ple_model_proj, x, ctx);
    backend_.scale(ctx, static_cast<float>(1.0 / std::sqrt(static_cast<double>(H))));
    backend_.rms_norm(ctx, &w_.ple_proj_norm, P, eps_, ctx);
    // (ctx + tok) * 2^-1/2
    backend_.add(ctx, tok, ctx);
    backend_.scale(ctx, static_cast<float>(1.0 / std::sqrt(2.0)));
    return ctx;
}

void TextDecoder::ple_branch(int64_t layer, const Tensor& x, const Tensor& ple_layer) {
    const LayerWeights& l = w_.layers[static_cast<size_t>(layer)];
    const int64_t T = x.rows;
    Backend& b = layer_backend(layer);
    // x += RMSNorm_post( W_proj · (gelu_tanh(W_gate · x) ⊙ ple_i) )
    Tensor g = b.alloc(T, text_.hidden_size_per_layer_input);
    b.matmul(l.ple_gate, x, g);
    b.gelu_mul(g, ple_layer, g);
    Tensor h = b.alloc(T, text_.hidden_size);
    b.matmul(l.ple_proj, g, h);
    b.rms_norm(h, &l.ple_post_norm, text_.hidden_size, eps_, h);
    b.add(x, h, x);
}

}  // namespace gd
