#include "audio/encoder/audio_weights.h"

#include <cmath>
#include <string>

#include "common/error.h"
#include "format/quant/quant.h"

namespace gd {

namespace {

// All elements of a tensor as f32, checked finite (small tensors only: scales, taps, biases).
std::vector<float> host_values(const TowerBinder& b, const std::string& name, uint64_t n) {
    const TensorView& v = b.tensor(name).view;
    if (v.elements() != n)
        throw ModelError("tensor " + name + " has " + std::to_string(v.elements()) + " elements, expected " +
                         std::to_string(n));
    std::vector<float> out(n);
    dequantize_row(v.type, v.data, out.data(), n);
    for (float x : out)
        if (!std::isfinite(x)) throw ModelError("tensor " + name + " holds NaN or infinite values");
    return out;
}

// softplus as torch computes it (log1p(exp(x)), linear above 20), in double.
double softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

// A per-head-dim vector [dh] stored raw in HF and as softplus(x) in GGUF (spec §6.4), as softplus values.
std::vector<float> softplus_vector(const TowerBinder& b, const ModelFiles& files, const std::string& name, int64_t dh) {
    std::vector<float> v = host_values(b, name, static_cast<uint64_t>(dh));
    const ModelTensor& t = b.tensor(name);
    const bool applied = files.format() == ModelFormat::Gguf && t.spec.gguf_layout == GgufLayout::SoftplusApplied;
    if (!applied)
        for (float& x : v) x = static_cast<float>(softplus(x));
    return v;
}

std::vector<float> tile_heads(const std::vector<float>& per_dim, int64_t heads) {
    std::vector<float> out;
    out.reserve(per_dim.size() * static_cast<size_t>(heads));
    for (int64_t h = 0; h < heads; ++h) out.insert(out.end(), per_dim.begin(), per_dim.end());
    return out;
}

AudioFeedForwardWeights feed_forward(TowerBinder& b, const std::string& g, const std::string& sfx, int64_t Ha,
                                     bool clip) {
    AudioFeedForwardWeights f;
    f.pre_norm = b.vector(g + "ffn_norm" + sfx + ".weight", Ha);
    f.up = b.linear(g + "ffn_up" + sfx, clip);
    f.down = b.linear(g + "ffn_down" + sfx, clip);
    f.post_norm = b.vector(g + "ffn_post_norm" + sfx + ".weight", Ha);
    return f;
}

}  // namespace

AudioWeights load_audio_weights(const ModelFiles& files, Backend& backend) {
    if (!files.config().audio)
        throw ModelError(files.format() == ModelFormat::Gguf
                             ? "the model has no audio tower (audio input needs the E2B/E4B model's mmproj file)"
                             : "the model has no audio tower");
    const AudioConfig& c = *files.config().audio;
    const int64_t Ha = c.hidden_size, dh = c.head_dim(), heads = c.num_heads, K = c.conv_kernel_size;
    const int64_t C0 = c.subsampling_channels0, C1 = c.subsampling_channels1;
    TowerBinder b(files, backend, "audio tower");
    AudioWeights w;

    w.conv0 = b.matrix("a.conv1d.0.weight", C0, 9);
    w.conv0_norm = b.vector("a.conv1d.0.norm.weight", C0);
    w.conv1 = b.matrix("a.conv1d.1.weight", C1, C0 * 9);
    w.conv1_norm = b.vector("a.conv1d.1.norm.weight", C1);
    w.input_proj = b.get("a.input_projection.weight");
    if (w.input_proj.rows != Ha || w.input_proj.cols != c.sscp_flat_width())
        throw ModelError("tensor a.input_projection.weight does not map the subsampled features to the tower width");

    const bool clip = c.use_clipped_linears;
    // transformers: q_scale = head_dim^-0.5 / ln 2 and k_scale = ln(1 + e) / ln 2, Python floats applied
    // to f32 tensors (so as f32).
    const float q_scale = static_cast<float>(std::pow(static_cast<double>(dh), -0.5) / std::log(2.0));
    const float k_scale = static_cast<float>(std::log1p(std::exp(1.0)) / std::log(2.0));
    w.layers.resize(static_cast<size_t>(c.num_layers));
    for (int64_t i = 0; i < c.num_layers; ++i) {
        AudioLayerWeights& l = w.layers[static_cast<size_t>(i)];
        const std::string g = "a.blk." + std::to_string(i) + ".";
        l.ffn1 = feed_forward(b, g, "", Ha, clip);
        l.ffn2 = feed_forward(b, g, "_1", Ha, clip);
        l.attn_pre_norm = b.vector(g + "attn_pre_norm.weight", Ha);
        l.q = b.linear(g + "attn_q", clip);
        l.k = b.linear(g + "attn_k", clip);
        l.v = b.linear(g + "attn_v", clip);
        l.post = b.linear(g + "attn_out", clip);
        l.rel_k = b.get(g + "attn_k_rel.weight");
        l.attn_post_norm = b.vector(g + "attn_post_norm.weight", Ha);

        std::vector<float> qs = softplus_vector(b, files, g + "per_dim_scale.weight", dh);
        for (float& x : qs) x *= q_scale;
        l.q_scale = tile_heads(qs, heads);
        std::vector<float> ks(static_cast<size_t>(dh), k_scale);
        if (b.find(g + "per_dim_k_scale.weight")) {  // optional llama.cpp extension (spec §4.5)
            const std::vector<float> extra = softplus_vector(b, files, g + "per_dim_k_scale.weight", dh);
            for (size_t j = 0; j < ks.size(); ++j) ks[j] *= extra[j];
        }
        l.k_scale = tile_heads(ks, heads);

        l.conv_pre_norm = b.vector(g + "conv_norm.weight", Ha);  // lconv1d.pre_layer_norm (GGUF naming)
        l.conv_start = b.linear(g + "conv_pw1", clip);
        l.conv_taps = host_values(b, g + "conv_dw.weight", static_cast<uint64_t>(Ha * K));
        l.conv_norm = b.vector(g + "norm_conv.weight", Ha);       // lconv1d.conv_norm
        l.conv_end = b.linear(g + "conv_pw2", clip);
        l.norm_out = b.vector(g + "ln2.weight", Ha);
    }
    w.output_proj = b.get("a.pre_encode.out.weight");
    w.output_bias = host_values(b, "a.pre_encode.out.bias", static_cast<uint64_t>(c.output_proj_dims));
    if (w.output_proj.rows != c.output_proj_dims || w.output_proj.cols != Ha)
        throw ModelError("tensor a.pre_encode.out.weight does not map the tower width to output_proj_dims");
    w.embedding = b.get("mm.a.input_projection.weight");
    if (w.embedding.cols != c.output_proj_dims || w.embedding.rows != files.config().text.hidden_size)
        throw ModelError("tensor mm.a.input_projection.weight does not map the audio tower to the text model's width");
    return w;
}

}  // namespace gd
