#include "model/tensor_names.h"

#include <regex>

namespace gd {

const char* part_name(Part p) {
    switch (p) {
        case Part::TokenEmbedding: return "token embedding";
        case Part::PleTable: return "per-layer embedding table";
        case Part::PleOther: return "per-layer embedding projections";
        case Part::Attention: return "attention";
        case Part::Mlp: return "dense MLP";
        case Part::Moe: return "MoE experts and routers";
        case Part::TextNorms: return "norms and layer scalars";
        case Part::VisionTower: return "vision tower";
        case Part::VisionEmbedder: return "vision embedder";
        case Part::AudioTower: return "audio tower";
        case Part::AudioEmbedder: return "audio embedder";
        case Part::Count: break;
    }
    return "?";
}

bool part_is_vision(Part p) { return p == Part::VisionTower || p == Part::VisionEmbedder; }
bool part_is_audio(Part p) { return p == Part::AudioTower || p == Part::AudioEmbedder; }
bool part_is_text(Part p) { return !part_is_vision(p) && !part_is_audio(p); }

uint64_t ParamCounts::text() const {
    uint64_t n = 0;
    for (int p = 0; p < static_cast<int>(Part::Count); ++p)
        if (part_is_text(static_cast<Part>(p))) n += by_part[p];
    return n;
}
uint64_t ParamCounts::vision() const { return (*this)[Part::VisionTower] + (*this)[Part::VisionEmbedder]; }
uint64_t ParamCounts::audio() const { return (*this)[Part::AudioTower] + (*this)[Part::AudioEmbedder]; }

namespace {

using U = uint64_t;
const std::string kText = "model.language_model.";
const std::string kVision = "model.vision_tower.";
const std::string kAudio = "model.audio_tower.";

class Builder {
public:
    std::vector<ExpectedTensor> out;

    ExpectedTensor& add(std::string name, std::string hf, std::vector<U> shape, Part part, int64_t layer = -1) {
        ExpectedTensor t;
        t.name = std::move(name);
        t.hf_name = std::move(hf);
        t.shape = std::move(shape);
        t.part = part;
        t.layer = layer;
        t.in_mmproj = part_is_vision(part) || part_is_audio(part);
        out.push_back(std::move(t));
        return out.back();
    }

    // A clipped linear (spec §3.4): the weight plus four scalar bounds, in HF as
    // <module>.linear.weight and <module>.{input,output}_{min,max}; in GGUF as <name>.weight and
    // <name>.{input,output}_{min,max}.
    void clipped_linear(const std::string& name, const std::string& hf_module, std::vector<U> shape, Part part,
                        int64_t layer, bool clipped) {
        add(name + ".weight", hf_module + ".linear.weight", std::move(shape), part, layer);
        if (!clipped) return;
        for (const char* b : {"input_min", "input_max", "output_min", "output_max"})
            add(name + "." + b, hf_module + "." + b, {}, part, layer).buffer = true;
    }
};

void text_tensors(Builder& b, const TextConfig& t) {
    const U H = static_cast<U>(t.hidden_size);
    const std::string m = kText;
    b.add("token_embd.weight", m + "embed_tokens.weight", {U(t.vocab_size), H}, Part::TokenEmbedding);
    if (t.has_ple()) {
        const U LP = U(t.num_layers) * U(t.hidden_size_per_layer_input);
        b.add("per_layer_token_embd.weight", m + "embed_tokens_per_layer.weight", {U(t.vocab_size_per_layer_input), LP},
              Part::PleTable);
        b.add("per_layer_model_proj.weight", m + "per_layer_model_projection.weight", {LP, H}, Part::PleOther);
        b.add("per_layer_proj_norm.weight", m + "per_layer_projection_norm.weight", {U(t.hidden_size_per_layer_input)},
              Part::PleOther);
    }
    b.add("output_norm.weight", m + "norm.weight", {H}, Part::TextNorms);
    {
        // llama.cpp's frequency divisors for proportional RoPE (1 for rotated pairs, 1e30 for the rest).
        ExpectedTensor& r = b.add("rope_freqs.weight", "", {U(t.global_head_dim / 2)}, Part::Attention);
        r.gguf_only = true;
        r.optional = true;
    }
    for (int64_t i = 0; i < t.num_layers; ++i) {
        const std::string g = "blk." + std::to_string(i) + ".";
        const std::string h = m + "layers." + std::to_string(i) + ".";
        const U d = U(t.layer_head_dim(i)), q = U(t.num_heads) * d, kv = U(t.layer_kv_heads(i)) * d;
        const U I = U(t.layer_ffn_width(i));
        b.add(g + "attn_norm.weight", h + "input_layernorm.weight", {H}, Part::TextNorms, i);
        b.add(g + "attn_q.weight", h + "self_attn.q_proj.weight", {q, H}, Part::Attention, i);
        b.add(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", {d}, Part::Attention, i);
        if (!t.is_kv_shared(i)) {
            b.add(g + "attn_k.weight", h + "self_attn.k_proj.weight", {kv, H}, Part::Attention, i);
            b.add(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", {d}, Part::Attention, i);
            if (t.layer_has_v_proj(i)) b.add(g + "attn_v.weight", h + "self_attn.v_proj.weight", {kv, H}, Part::Attention, i);
        }
        b.add(g + "attn_output.weight", h + "self_attn.o_proj.weight", {H, q}, Part::Attention, i);
        b.add(g + "post_attention_norm.weight", h + "post_attention_layernorm.weight", {H}, Part::TextNorms, i);
        b.add(g + "ffn_norm.weight", h + "pre_feedforward_layernorm.weight", {H}, Part::TextNorms, i);
        b.add(g + "ffn_gate.weight", h + "mlp.gate_proj.weight", {I, H}, Part::Mlp, i);
        b.add(g + "ffn_up.weight", h + "mlp.up_proj.weight", {I, H}, Part::Mlp, i);
        b.add(g + "ffn_down.weight", h + "mlp.down_proj.weight", {H, I}, Part::Mlp, i);
        b.add(g + "post_ffw_norm.weight", h + "post_feedforward_layernorm.weight", {H}, Part::TextNorms, i);
        if (t.enable_moe_block) {
            const U E = U(t.num_experts), Im = U(t.moe_intermediate_size);
            b.add(g + "pre_ffw_norm_2.weight", h + "pre_feedforward_layernorm_2.weight", {H}, Part::TextNorms, i);
            b.add(g + "post_ffw_norm_1.weight", h + "post_feedforward_layernorm_1.weight", {H}, Part::TextNorms, i);
            b.add(g + "post_ffw_norm_2.weight", h + "post_feedforward_layernorm_2.weight", {H}, Part::TextNorms, i);
            b.add(g + "ffn_gate_inp.weight", h + "router.proj.weight", {E, H}, Part::Moe, i);
            b.add(g + "ffn_gate_inp.scale", h + "router.scale", {H}, Part::Moe, i);
            b.add(g + "ffn_gate_up_exps.weight", h + "experts.gate_up_proj", {E, 2 * Im, H}, Part::Moe, i);
            b.add(g + "ffn_down_exps.weight", h + "experts.down_proj", {E, H, Im}, Part::Moe, i);
            b.add(g + "ffn_down_exps.scale", h + "router.per_expert_scale", {E}, Part::Moe, i);
        }
        if (t.has_ple()) {
            const U P = U(t.hidden_size_per_layer_input);
            b.add(g + "inp_gate.weight", h + "per_layer_input_gate.weight", {P, H}, Part::PleOther, i);
            b.add(g + "proj.weight", h + "per_layer_projection.weight", {H, P}, Part::PleOther, i);
            b.add(g + "post_norm.weight", h + "post_per_layer_input_norm.weight", {H}, Part::PleOther, i);
        }
        b.add(g + "layer_output_scale.weight", h + "layer_scalar", {1}, Part::TextNorms, i).buffer = true;
    }
}

void vision_tensors(Builder& b, const VisionConfig& v, int64_t text_hidden) {
    const U Hv = U(v.hidden_size), F = U(v.intermediate_size), p = U(v.patch_size), dh = U(v.head_dim);
    const std::string m = kVision;
    {
        ExpectedTensor& t = b.add("v.patch_embd.weight", m + "patch_embedder.input_proj.weight", {Hv, p * p * 3},
                                  Part::VisionTower);
        t.gguf_layout = GgufLayout::ConvPatch;
        t.gguf_shape = {Hv, 3, p, p};
    }
    b.add("v.position_embd.weight", m + "patch_embedder.position_embedding_table", {2, U(v.position_embedding_size), Hv},
          Part::VisionTower);
    for (int64_t i = 0; i < v.num_layers; ++i) {
        const std::string g = "v.blk." + std::to_string(i) + ".";
        const std::string h = m + "encoder.layers." + std::to_string(i) + ".";
        const bool c = v.use_clipped_linears;
        b.clipped_linear(g + "attn_q", h + "self_attn.q_proj", {Hv, Hv}, Part::VisionTower, i, c);
        b.clipped_linear(g + "attn_k", h + "self_attn.k_proj", {Hv, Hv}, Part::VisionTower, i, c);
        b.clipped_linear(g + "attn_v", h + "self_attn.v_proj", {Hv, Hv}, Part::VisionTower, i, c);
        b.clipped_linear(g + "attn_out", h + "self_attn.o_proj", {Hv, Hv}, Part::VisionTower, i, c);
        b.add(g + "attn_q_norm.weight", h + "self_attn.q_norm.weight", {dh}, Part::VisionTower, i);
        b.add(g + "attn_k_norm.weight", h + "self_attn.k_norm.weight", {dh}, Part::VisionTower, i);
        b.add(g + "ln1.weight", h + "input_layernorm.weight", {Hv}, Part::VisionTower, i);
        b.add(g + "attn_post_norm.weight", h + "post_attention_layernorm.weight", {Hv}, Part::VisionTower, i);
        b.add(g + "ln2.weight", h + "pre_feedforward_layernorm.weight", {Hv}, Part::VisionTower, i);
        b.add(g + "ffn_post_norm.weight", h + "post_feedforward_layernorm.weight", {Hv}, Part::VisionTower, i);
        b.clipped_linear(g + "ffn_gate", h + "mlp.gate_proj", {F, Hv}, Part::VisionTower, i, c);
        b.clipped_linear(g + "ffn_up", h + "mlp.up_proj", {F, Hv}, Part::VisionTower, i, c);
        b.clipped_linear(g + "ffn_down", h + "mlp.down_proj", {Hv, F}, Part::VisionTower, i, c);
    }
    if (v.standardize) {
        b.add("v.std_bias", m + "std_bias", {Hv}, Part::VisionTower).buffer = true;
        b.add("v.std_scale", m + "std_scale", {Hv}, Part::VisionTower).buffer = true;
    }
    b.add("mm.input_projection.weight", "model.embed_vision.embedding_projection.weight", {U(text_hidden), Hv},
          Part::VisionEmbedder);
}

void audio_tensors(Builder& b, const AudioConfig& a, int64_t text_hidden) {
    const U Ha = U(a.hidden_size), F = U(a.ffn_size()), c0 = U(a.subsampling_channels0), c1 = U(a.subsampling_channels1);
    const std::string m = kAudio;
    const std::string s = m + "subsample_conv_projection.";
    b.add("a.conv1d.0.weight", s + "layer0.conv.weight", {c0, 1, 3, 3}, Part::AudioTower);
    b.add("a.conv1d.0.norm.weight", s + "layer0.norm.weight", {c0}, Part::AudioTower);
    b.add("a.conv1d.1.weight", s + "layer1.conv.weight", {c1, c0, 3, 3}, Part::AudioTower);
    b.add("a.conv1d.1.norm.weight", s + "layer1.norm.weight", {c1}, Part::AudioTower);
    b.add("a.input_projection.weight", s + "input_proj_linear.weight", {Ha, U(a.sscp_flat_width())}, Part::AudioTower);
    const bool c = a.use_clipped_linears;
    for (int64_t i = 0; i < a.num_layers; ++i) {
        const std::string g = "a.blk." + std::to_string(i) + ".";
        const std::string h = m + "layers." + std::to_string(i) + ".";
        // The two macaron feed-forward halves: feed_forward1 -> ffn_*, feed_forward2 -> ffn_*_1.
        for (int k = 1; k <= 2; ++k) {
            const std::string sfx = k == 1 ? "" : "_1";
            const std::string ff = h + "feed_forward" + std::to_string(k) + ".";
            b.add(g + "ffn_norm" + sfx + ".weight", ff + "pre_layer_norm.weight", {Ha}, Part::AudioTower, i);
            b.clipped_linear(g + "ffn_up" + sfx, ff + "ffw_layer_1", {F, Ha}, Part::AudioTower, i, c);
            b.clipped_linear(g + "ffn_down" + sfx, ff + "ffw_layer_2", {Ha, F}, Part::AudioTower, i, c);
            b.add(g + "ffn_post_norm" + sfx + ".weight", ff + "post_layer_norm.weight", {Ha}, Part::AudioTower, i);
        }
        b.add(g + "attn_pre_norm.weight", h + "norm_pre_attn.weight", {Ha}, Part::AudioTower, i);
        b.clipped_linear(g + "attn_q", h + "self_attn.q_proj", {Ha, Ha}, Part::AudioTower, i, c);
        b.clipped_linear(g + "attn_k", h + "self_attn.k_proj", {Ha, Ha}, Part::AudioTower, i, c);
        b.clipped_linear(g + "attn_v", h + "self_attn.v_proj", {Ha, Ha}, Part::AudioTower, i, c);
        b.clipped_linear(g + "attn_out", h + "self_attn.post", {Ha, Ha}, Part::AudioTower, i, c);
        b.add(g + "attn_k_rel.weight", h + "self_attn.relative_k_proj.weight", {Ha, Ha}, Part::AudioTower, i);
        {
            ExpectedTensor& t = b.add(g + "per_dim_scale.weight", h + "self_attn.per_dim_scale", {U(a.head_dim())},
                                      Part::AudioTower, i);
            t.gguf_layout = GgufLayout::SoftplusApplied;
        }
        {
            ExpectedTensor& t = b.add(g + "per_dim_k_scale.weight", "", {U(a.head_dim())}, Part::AudioTower, i);
            t.gguf_only = true;  // optional llama.cpp extension (spec §4.5), absent from HF conversions
            t.optional = true;
            t.gguf_layout = GgufLayout::SoftplusApplied;
        }
        b.add(g + "attn_post_norm.weight", h + "norm_post_attn.weight", {Ha}, Part::AudioTower, i);
        b.add(g + "conv_norm.weight", h + "lconv1d.pre_layer_norm.weight", {Ha}, Part::AudioTower, i);
        b.clipped_linear(g + "conv_pw1", h + "lconv1d.linear_start", {2 * Ha, Ha}, Part::AudioTower, i, c);
        b.add(g + "conv_dw.weight", h + "lconv1d.depthwise_conv1d.weight", {Ha, 1, U(a.conv_kernel_size)}, Part::AudioTower, i);
        b.add(g + "norm_conv.weight", h + "lconv1d.conv_norm.weight", {Ha}, Part::AudioTower, i);
        b.clipped_linear(g + "conv_pw2", h + "lconv1d.linear_end", {Ha, Ha}, Part::AudioTower, i, c);
        b.add(g + "ln2.weight", h + "norm_out.weight", {Ha}, Part::AudioTower, i);
    }
    b.add("a.pre_encode.out.weight", m + "output_proj.weight", {U(a.output_proj_dims), Ha}, Part::AudioTower);
    b.add("a.pre_encode.out.bias", m + "output_proj.bias", {U(a.output_proj_dims)}, Part::AudioTower);
    b.add("mm.a.input_projection.weight", "model.embed_audio.embedding_projection.weight",
          {U(text_hidden), U(a.output_proj_dims)}, Part::AudioEmbedder);
}

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c) {
    Builder b;
    text_tensors(b, c.text);
    if (c.vision) vision_tensors(b, *c.vision, c.text.hidden_size);
    if (c.audio) audio_tensors(b, *c.audio, c.text.hidden_size);
    return std::move(b.out);
}

bool is_ignorable_tensor(const std::string& name, const ModelConfig& c) {
    // An untied output head equal to the embedding (the models tie them).
    if (name == "lm_head.weight" || name == "output.weight") return c.text.tie_word_embeddings;
    // K/V projections and k_norm of KV-shared layers (spec §2.7, pitfall 33), in either naming.
    static const std::regex shared_kv_hf(
        R"(model\.(?:language_model\.)?layers\.(\d{1,9})\.self_attn\.(k_proj|v_proj|k_norm)\.weight)");
    static const std::regex shared_kv_gguf(R"(blk\.(\d{1,9})\.(attn_k|attn_v|attn_k_norm)\.weight)");
    std::smatch m;
    if (std::regex_match(name, m, shared_kv_hf) || std::regex_match(name, m, shared_kv_gguf)) {
        const int64_t layer = std::stoll(m[1].str());  // at most 9 digits: cannot overflow
        return layer < c.text.num_layers && c.text.is_kv_shared(layer);
    }
    return false;
}

ParamCounts count_params(const ModelConfig& c) {
    ParamCounts p;
    for (const auto& t : expected_tensors(c)) {
        if (t.gguf_only) continue;  // derived tensors, not parameters of the model
        U n = 1;
        for (U d : t.shape) n *= d;
        if (t.buffer) p.buffers += n;
        else p.by_part[static_cast<int>(t.part)] += n;
    }
    return p;
}

}  // namespace gd
