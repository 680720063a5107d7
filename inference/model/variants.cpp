#include "model/variants.h"

#include "common/error.h"

namespace gd {

std::vector<LayerKind> make_layer_types(int64_t num_layers, int64_t sliding_per_full) {
    std::vector<LayerKind> t(static_cast<size_t>(num_layers));
    for (int64_t i = 0; i < num_layers; ++i)
        t[static_cast<size_t>(i)] = (i + 1) % (sliding_per_full + 1) == 0 ? LayerKind::Full : LayerKind::Sliding;
    if (num_layers > 0) t.back() = LayerKind::Full;
    return t;
}

std::vector<Variant> published_variants() { return {Variant::E2B, Variant::E4B, Variant::A26B, Variant::B31}; }

namespace {

VisionConfig small_vision() {  // E2B / E4B tower (spec §3.1)
    VisionConfig v;
    v.hidden_size = 768;
    v.intermediate_size = 3072;
    v.num_layers = 16;
    v.num_heads = 12;
    v.head_dim = 64;
    v.use_clipped_linears = true;
    v.standardize = false;
    return v;
}

VisionConfig large_vision() {  // 26B / 31B tower
    VisionConfig v;
    v.hidden_size = 1152;
    v.intermediate_size = 4304;
    v.num_layers = 27;
    v.num_heads = 16;
    v.head_dim = 72;
    v.use_clipped_linears = false;
    v.standardize = true;
    return v;
}

AudioConfig full_audio() {  // spec §4.1, identical for E2B and E4B
    AudioConfig a;
    a.hidden_size = 1024;
    a.num_layers = 12;
    a.num_heads = 8;
    return a;
}

TokenIds full_tokens() {  // spec §2.1, §5.2
    TokenIds t;
    t.boi = 255999;
    t.eoi = 258882;
    t.boa = 256000;
    t.eoa = 258883;
    t.image = 258880;
    t.audio = 258881;
    t.video = 258884;
    t.stop = {1, 106, 50};  // <eos>, <turn|>, <|tool_response>
    return t;
}

// The tiny vocabulary puts the 24 special tokens first (same order as the llama.cpp fixture).
TokenIds tiny_tokens() {
    TokenIds t;
    t.boi = 17;
    t.eoi = 18;
    t.boa = 19;
    t.eoa = 20;
    t.image = 21;
    t.audio = 22;
    t.video = 23;
    t.stop = {1, 6, 14};
    return t;
}

ModelConfig full_preset(Variant v) {
    ModelConfig c;
    c.variant = v;
    c.tokens = full_tokens();
    TextConfig& t = c.text;
    switch (v) {
        case Variant::E2B:
            t.hidden_size = 1536; t.num_layers = 35; t.layer_types = make_layer_types(35, 4);
            t.intermediate_size = 6144; t.use_double_wide_mlp = true;
            t.num_heads = 8; t.num_kv_heads = 1;
            t.sliding_window = 512; t.num_kv_shared_layers = 20;
            t.hidden_size_per_layer_input = 256; t.vocab_size_per_layer_input = 262144;
            t.max_position_embeddings = 131072;
            c.vision = small_vision(); c.audio = full_audio();
            break;
        case Variant::E4B:
            t.hidden_size = 2560; t.num_layers = 42; t.layer_types = make_layer_types(42, 5);
            t.intermediate_size = 10240;
            t.num_heads = 8; t.num_kv_heads = 2;
            t.sliding_window = 512; t.num_kv_shared_layers = 18;
            t.hidden_size_per_layer_input = 256; t.vocab_size_per_layer_input = 262144;
            t.max_position_embeddings = 131072;
            c.vision = small_vision(); c.audio = full_audio();
            break;
        case Variant::A26B:
            t.hidden_size = 2816; t.num_layers = 30; t.layer_types = make_layer_types(30, 5);
            t.intermediate_size = 2112;
            t.num_heads = 16; t.num_kv_heads = 8; t.num_global_kv_heads = 2; t.attention_k_eq_v = true;
            t.sliding_window = 1024;
            t.enable_moe_block = true; t.num_experts = 128; t.top_k_experts = 8; t.moe_intermediate_size = 704;
            t.max_position_embeddings = 262144; t.bidirectional_attention = "vision";
            c.vision = large_vision();
            break;
        case Variant::B31:
            t.hidden_size = 5376; t.num_layers = 60; t.layer_types = make_layer_types(60, 5);
            t.intermediate_size = 21504;
            t.num_heads = 32; t.num_kv_heads = 16; t.num_global_kv_heads = 4; t.attention_k_eq_v = true;
            t.sliding_window = 1024;
            t.max_position_embeddings = 262144; t.bidirectional_attention = "vision";
            c.vision = large_vision();
            break;
        case Variant::Custom:
            throw Error("there is no preset for a custom model");
    }
    return c;
}

// Same structure at toy size: every layer kind, sharing pattern and tower kind of the full variant.
ModelConfig tiny_preset(Variant v) {
    ModelConfig c = full_preset(v);
    c.tokens = tiny_tokens();
    TextConfig& t = c.text;
    t.vocab_size = 512;
    t.hidden_size = 128;
    t.head_dim = 16;
    t.global_head_dim = 32;
    t.sliding_window = 16;
    t.max_position_embeddings = 4096;
    t.num_heads = 4;
    if (t.has_ple()) {
        t.hidden_size_per_layer_input = 32;
        t.vocab_size_per_layer_input = 512;
    }
    switch (v) {
        case Variant::E2B:
            t.num_layers = 10; t.layer_types = make_layer_types(10, 4);
            t.num_kv_heads = 1; t.num_kv_shared_layers = 5; t.intermediate_size = 256;
            break;
        case Variant::E4B:
            t.num_layers = 12; t.layer_types = make_layer_types(12, 5);
            t.num_kv_heads = 2; t.num_kv_shared_layers = 4; t.intermediate_size = 256;
            break;
        case Variant::A26B:
            t.num_layers = 12; t.layer_types = make_layer_types(12, 5);
            t.num_kv_heads = 2; t.num_global_kv_heads = 1; t.intermediate_size = 96;
            t.num_experts = 8; t.top_k_experts = 2; t.moe_intermediate_size = 32;
            break;
        case Variant::B31:
            t.num_layers = 12; t.layer_types = make_layer_types(12, 5);
            t.num_kv_heads = 2; t.num_global_kv_heads = 1; t.intermediate_size = 256;
            break;
        case Variant::Custom: break;
    }
    if (c.vision) {
        VisionConfig& vc = *c.vision;
        vc.hidden_size = 32; vc.intermediate_size = 64; vc.num_layers = 2; vc.num_heads = 2; vc.head_dim = 16;
        vc.position_embedding_size = 128;
    }
    if (c.audio) {
        AudioConfig& a = *c.audio;
        a.hidden_size = 32; a.num_layers = 2; a.num_heads = 2; a.output_proj_dims = 64;
    }
    return c;
}

}  // namespace

ModelConfig preset_config(Variant v, ModelSize size) {
    ModelConfig c = size == ModelSize::Full ? full_preset(v) : tiny_preset(v);
    validate(c, std::string("preset ") + variant_name(v));
    return c;
}

}  // namespace gd
