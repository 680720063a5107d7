#include "text/text_weights.h"

#include <cmath>

#include "common/error.h"

namespace gd {

namespace {

class Binder {
public:
    Binder(const ModelFiles& files, Backend& backend, const LoadProgress& progress)
        : files_(files), backend_(&backend), progress_(progress) {
        for (const ModelTensor& t : files.tensors())
            if (!t.spec.in_mmproj && !t.spec.gguf_only) ++total_;
    }

    // The tensor by internal name, placed on the backend; an absent optional tensor gives an empty Weight.
    // Where the next weights go (a model split over devices places each layer on its own).
    void place_on(Backend& backend) { backend_ = &backend; }

    Weight get(const std::string& name, bool required = true, WeightPlacement placement = WeightPlacement::Device) {
        const ModelTensor* t = files_.find(name);
        if (!t) {
            if (required) throw ModelError("the model has no tensor " + name);
            return {};
        }
        Weight w = backend_->upload_weight(t->view, placement);
        w.name = name;
        if (!w.f32.empty()) {
            for (float v : w.f32)
                if (!std::isfinite(v)) throw ModelError("tensor " + name + " in " + t->file + " holds NaN or infinite values");
        }
        ++done_;
        if (progress_ && !progress_(done_, total_)) throw Cancelled("loading cancelled");
        return w;
    }

private:
    const ModelFiles& files_;
    Backend* backend_;
    const LoadProgress& progress_;
    size_t done_ = 0, total_ = 0;
};

}  // namespace

TextWeights load_text_weights(const ModelFiles& files, Backend& backend, const LoadProgress& progress) {
    return load_text_weights(files, backend, backend, files.config().text.num_layers, progress);
}

TextWeights load_text_weights(const ModelFiles& files, Backend& backend, Backend& rest, int64_t gpu_layers,
                              const LoadProgress& progress) {
    const TextConfig& c = files.config().text;
    Binder b(files, backend, progress);
    TextWeights w;
    w.token_embd = b.get("token_embd.weight");
    if (w.token_embd.rows != c.vocab_size) {
        throw ModelError("the token embedding has " + std::to_string(w.token_embd.rows) + " rows but the vocabulary has " +
                         std::to_string(c.vocab_size) + " entries");
    }
    w.output_norm = b.get("output_norm.weight");
    if (c.has_ple()) {
        // Gigabytes of which a token reads one row: stays in host memory beside a GPU (spec §7.2).
        w.ple_table = b.get("per_layer_token_embd.weight", true, WeightPlacement::Host);
        w.ple_model_proj = b.get("per_layer_model_proj.weight");
        w.ple_proj_norm = b.get("per_layer_proj_norm.weight");
    }
    w.layers.resize(static_cast<size_t>(c.num_layers));
    for (int64_t i = 0; i < c.num_layers; ++i) {
        LayerWeights& l = w.layers[static_cast<size_t>(i)];
        const std::string g = "blk." + std::to_string(i) + ".";
        b.place_on(i < gpu_layers ? backend : rest);
        l.attn_norm = b.get(g + "attn_norm.weight");
        l.q = b.get(g + "attn_q.weight");
        l.q_norm = b.get(g + "attn_q_norm.weight");
        if (!c.is_kv_shared(i)) {
            l.k = b.get(g + "attn_k.weight");
            l.k_norm = b.get(g + "attn_k_norm.weight");
            if (c.layer_has_v_proj(i)) l.v = b.get(g + "attn_v.weight");
        }
        l.o = b.get(g + "attn_output.weight");
        l.post_attn_norm = b.get(g + "post_attention_norm.weight");
        l.ffn_norm = b.get(g + "ffn_norm.weight");
        l.gate = b.get(g + "ffn_gate.weight");
        l.up = b.get(g + "ffn_up.weight");
        l.down = b.get(g + "ffn_down.weight");
        l.post_ffw_norm = b.get(g + "post_ffw_norm.weight");
        if (c.enable_moe_block) {
            l.pre_ffw_norm_2 = b.get(g + "pre_ffw_norm_2.weight");
            l.post_ffw_norm_1 = b.get(g + "post_ffw_norm_1.weight");
            l.post_ffw_norm_2 = b.get(g + "post_ffw_norm_2.weight");
            l.router = b.get(g + "ffn_gate_inp.weight");
            l.router_scale = b.get(g + "ffn_gate_inp.scale");
            l.gate_up_exps = b.get(g + "ffn_gate_up_exps.weight");
            l.down_exps = b.get(g + "ffn_down_exps.weight");
            l.expert_scale = b.get(g + "ffn_down_exps.scale");
        }
        if (c.has_ple()) {
            l.ple_gate = b.get(g + "inp_gate.weight");
            l.ple_proj = b.get(g + "proj.weight");
            l.ple_post_norm = b.get(g + "post_norm.weight");
        }
        const Weight scalar = b.get(g + "layer_output_scale.weight");
        if (scalar.f32.size() != 1) throw ModelError("tensor " + g + "layer_output_scale.weight is not a scalar");
        l.layer_scalar = scalar.f32[0];
    }
    return w;
}

}  // namespace gd
