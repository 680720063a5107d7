// The audio tower's forward pass (spec §4.3–4.6) for one piece, as a short list of backend ops.
#include "audio/encoder/audio_encoder.h"

#include <cmath>
#include <string>

#include "audio/encoder/audio_subsampling.h"
#include "audio/encoder/audio_weights.h"
#include "common/error.h"

namespace gd {

struct AudioEncoder::Impl {
    ModelFiles files;  // a copy shares the file mappings the weights point into
    Backend& backend;
    AudioConfig cfg;
    int64_t text_hidden = 0;
    AudioWeights w;
    Tensor position_table;  // [window, Ha]: row d is the sinusoid of relative distance d (spec §4.4)
    int64_t window = 0;     // keys a query sees: itself and window - 1 earlier frames
    uint64_t weight_bytes = 0;
    float eps = 1e-6f;

    Impl(const ModelFiles& f, Backend& b) : files(f), backend(b) {
        w = load_audio_weights(files, backend);
        cfg = *files.config().audio;
        text_hidden = files.config().text.hidden_size;
        eps = static_cast<float>(cfg.rms_norm_eps);
        // transformers masks distances 0 <= d < attention_context_left - 1 (sliding_window_mask_function);
        // the table's row for d = context_left - 1 exists there but is always masked.
        window = cfg.attention_context_left - 1;
        if (window <= 0 || cfg.attention_context_right != 0)
            throw ModelError("the audio tower's attention context (left " + std::to_string(cfg.attention_context_left) +
                             ", right " + std::to_string(cfg.attention_context_right) + ") is not supported");
        position_table = make_position_table();
        auto count = [&](const Weight& x) { weight_bytes += x.stored_bytes(); };
        for (const Weight* x : {&w.conv0, &w.conv1, &w.input_proj, &w.output_proj, &w.embedding}) count(*x);
        for (const AudioLayerWeights& l : w.layers) {
            for (const ClippedLinear* x : {&l.ffn1.up, &l.ffn1.down, &l.ffn2.up, &l.ffn2.down, &l.q, &l.k, &l.v,
                                           &l.post, &l.conv_start, &l.conv_end})
                count(x->w);
            count(l.rel_k);
        }
    }

    // sin block then cos block of d * inv[i], inv[i] = exp(-i * ln(10000) / (Ha/2 - 1)), in f32 as
    // transformers forms them (f32 arange times the f32 increment, f32 exp, f32 product).
    Tensor make_position_table() {
        const int64_t Ha = cfg.hidden_size, n = Ha / 2;
        const float inc = static_cast<float>(std::log(10000.0) / static_cast<double>(std::max<int64_t>(n - 1, 1)));
        std::vector<float> inv(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) inv[static_cast<size_t>(i)] = std::exp(static_cast<float>(i) * -inc);
        std::vector<float> table(static_cast<size_t>(window * Ha));
        for (int64_t d = 0; d < window; ++d)
            for (int64_t i = 0; i < n; ++i) {
                const double a = static_cast<double>(static_cast<float>(d) * inv[static_cast<size_t>(i)]);
                table[static_cast<size_t>(d * Ha + i)] = static_cast<float>(std::sin(a));
                table[static_cast<size_t>(d * Ha + n + i)] = static_cast<float>(std::cos(a));
            }
        Tensor t = backend.alloc(window, Ha);
        backend.upload(table.data(), t);
        return t;
    }

    void linear(const ClippedLinear& l, const Tensor& x, const Tensor& y, const Tensor& scratch) {
        apply_linear(backend, l, x, y, scratch);
    }

    // x += 0.5 * post_norm(W2 · silu(W1 · pre_norm(x)))  (Gemma4AudioFeedForward)
    void feed_forward(const AudioFeedForwardWeights& f, const Tensor& x) {
        const int64_t T = x.rows, Ha = cfg.hidden_size;
        Tensor h = backend.alloc(T, Ha), u = backend.alloc(T, cfg.ffn_size());
        backend.rms_norm(x, &f.pre_norm, Ha, eps, h);
        linear(f.up, h, u, h);
        backend.silu(u);
        linear(f.down, u, h, u);
        backend.rms_norm(h, &f.post_norm, Ha, eps, h);
        backend.scale(h, static_cast<float>(cfg.residual_weight));
        backend.add(x, h, x);
    }

    // x += post_norm(post · attention(pre_norm(x)))
    void attention(const AudioLayerWeights& l, const Tensor& x) {
        const int64_t T = x.rows, Ha = cfg.hidden_size;
        Tensor h = backend.alloc(T, Ha), hc = backend.alloc(T, Ha);
        backend.rms_norm(x, &l.attn_pre_norm, Ha, eps, h);
        Tensor q = backend.alloc(T, Ha), k = backend.alloc(T, Ha), v = backend.alloc(T, Ha);
        linear(l.q, h, q, hc);
        linear(l.k, h, k, hc);
        linear(l.v, h, v, hc);
        backend.mul_rows(q, l.q_scale);
        backend.mul_rows(k, l.k_scale);
        Tensor rel = backend.alloc(window, Ha);  // not clipped, not scaled (spec §4.5)
        backend.matmul(l.rel_k, position_table, rel);
        Tensor a = backend.alloc(T, Ha);
        backend.attention_local(q, k, v, rel, cfg.num_heads, cfg.head_dim(), window,
                                static_cast<float>(cfg.attention_logit_cap), a);
        linear(l.post, a, h, a);
        backend.rms_norm(h, &l.attn_post_norm, Ha, eps, h);
        backend.add(x, h, x);
    }

    // x += end · silu(conv_norm(depthwise(glu(start · pre_norm(x)))))  (Gemma4AudioLightConv1d)
    void light_conv(const AudioLayerWeights& l, const Tensor& x) {
        const int64_t T = x.rows, Ha = cfg.hidden_size;
        Tensor h = backend.alloc(T, Ha), s = backend.alloc(T, 2 * Ha), g = backend.alloc(T, Ha);
        backend.rms_norm(x, &l.conv_pre_norm, Ha, eps, h);
        linear(l.conv_start, h, s, h);
        backend.glu(s, g);
        backend.causal_depthwise_conv(g, l.conv_taps, cfg.conv_kernel_size, h);
        backend.rms_norm(h, &l.conv_norm, Ha, eps, h);
        backend.silu(h);
        linear(l.conv_end, h, g, h);
        backend.add(x, g, x);
    }

    // The clamps to ±gradient_clipping (1e10) around the norms are no-ops for f32 and are left out.
    void layer(const AudioLayerWeights& l, const Tensor& x, int64_t i, const TensorObserver& observe) {
        const std::string n = std::to_string(i);
        feed_forward(l.ffn1, x);
        if (observe) observe("a_ffw1-" + n, x);
        attention(l, x);
        if (observe) observe("a_attn-" + n, x);
        light_conv(l, x);
        if (observe) observe("a_lconv-" + n, x);
        feed_forward(l.ffn2, x);
        if (observe) observe("a_ffw2-" + n, x);
        backend.rms_norm(x, &l.norm_out, cfg.hidden_size, eps, x);
        if (observe) observe("a_out-" + n, x);
    }
};

AudioEncoder::AudioEncoder(const ModelFiles& files, Backend& backend)
    : impl_(std::make_unique<Impl>(files, backend)) {}

AudioEncoder::~AudioEncoder() = default;

int64_t AudioEncoder::tokens_for_frames(int64_t frames) { return conv_output_length(conv_output_length(frames)); }

std::vector<float> AudioEncoder::encode(const LogMel& features, const TensorObserver& observe,
                                        const std::atomic<bool>* cancel) {
    Impl& m = *impl_;
    Backend& b = m.backend;
    auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };

    Tensor x = audio_subsample(b, m.w, m.cfg, features, observe);
    for (size_t i = 0; i < m.w.layers.size(); ++i) {
        if (cancelled()) throw Cancelled("audio encoding cancelled");
        m.layer(m.w.layers[i], x, static_cast<int64_t>(i), observe);
    }
    if (cancelled()) throw Cancelled("audio encoding cancelled");

    const int64_t T = x.rows, P = m.cfg.output_proj_dims;
    Tensor proj = b.alloc(T, P);
    b.matmul(m.w.output_proj, x, proj);
    b.add_rows(proj, m.w.output_bias);
    if (observe) observe("output_proj", proj);
    Tensor normed = b.alloc(T, P);
    b.rms_norm(proj, nullptr, P, m.eps, normed);  // the embedder's weight-less norm
    Tensor soft = b.alloc(T, m.text_hidden);
    b.matmul(m.w.embedding, normed, soft);
    if (observe) observe("soft_tokens", soft);
    std::vector<float> out(static_cast<size_t>(soft.elements()));
    b.download(soft, out.data());
    return out;
}

int64_t AudioEncoder::output_width() const { return impl_->text_hidden; }

uint64_t AudioEncoder::weight_bytes() const { return impl_->weight_bytes; }

}  // namespace gd
