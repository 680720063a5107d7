// The attention block of a decoder layer (spec §2.5, §2.6, §2.7):
//   h = RMSNorm_in(x); q = RoPE(RMSNorm_q(h·Wqᵀ)); for KV-owning layers k = RoPE(RMSNorm_k(h·Wkᵀ)),
//   v = RMSNorm_∅(h·Wvᵀ) — or of the raw K projection on K=V full layers — stored in the cache;
//   attention with scale 1 over the layer's own cache or its donor's (sliding layers: the window, plus
//   whole image blocks on 26B/31B); x += RMSNorm_post(o·Woᵀ).
#include "text/decoder.h"

namespace gd {

void TextDecoder::attention_block(int64_t layer, const Tensor& x, KvCache& cache, int64_t pos0,
                                  const std::vector<std::pair<int64_t, int64_t>>& blocks) {
    const LayerWeights& l = w_.layers[static_cast<size_t>(layer)];
    const int64_t T = x.rows, H = text_.hidden_size;
    const bool full = text_.is_full(layer);
    const int64_t d = text_.layer_head_dim(layer), nq = text_.num_heads, nkv = text_.layer_kv_heads(layer);
    const std::vector<float>& inv_freq = full ? inv_freq_full_ : inv_freq_sliding_;
    Backend& b = layer_backend(layer);

    Tensor h = b.alloc(T, H);
    b.rms_norm(x, &l.attn_norm, H, eps_, h);

    Tensor q = b.alloc(T, nq * d);
    b.matmul(l.q, h, q);
    b.rms_norm(q, &l.q_norm, d, eps_, q);
    b.rope(q, d, inv_freq, pos0);

    if (!text_.is_kv_shared(layer)) {
        Tensor k_raw = b.alloc(T, nkv * d);
        b.matmul(l.k, h, k_raw);
        // K=V full layers: V is the raw K projection itself, normalised without weight below.
        Tensor v = k_raw;
        if (l.v.present()) {
            v = b.alloc(T, nkv * d);
            b.matmul(l.v, h, v);
        }
        // K is normalised out of place when V shares its input, so V still sees the raw projection.
        Tensor k = v.data == k_raw.data ? b.alloc(T, nkv * d) : k_raw;
        b.rms_norm(k_raw, &l.k_norm, d, eps_, k);
        b.rope(k, d, inv_freq, pos0);
        b.rms_norm(v, nullptr, d, eps_, v);
        b.kv_store(cache.layer(layer), k, v, pos0);
    }

    AttentionParams p;
    p.q_heads = nq;
    p.kv_heads = nkv;
    p.head_dim = d;
    p.window = full ? 0 : text_.sliding_window;
    p.first_position = pos0;
    p.scale = 1.0f;
    // Image blocks are bidirectional on sliding layers only; global layers stay causal (spec §2.6.4).
    if (!full) p.blocks = blocks;
    Tensor attn = b.alloc(T, nq * d);
    b.attention(q, cache.source(layer), p, attn);

    Tensor o = b.alloc(T, H);
    b.matmul(l.o, attn, o);
    b.rms_norm(o, &l.post_attn_norm, H, eps_, o);
    b.add(x, o, x);
}

}  // namespace gd
