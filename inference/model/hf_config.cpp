#include "model/hf_config.h"

#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace gd {
namespace {

using json = nlohmann::json;

class Fields {
public:
    Fields(const json& j, std::string where, const std::string& source) : j_(j), where_(std::move(where)), source_(source) {}

    [[noreturn]] void bad(const std::string& key, const std::string& expected) const {
        throw ModelError(source_ + ": " + where_ + key + " should be " + expected);
    }
    bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
    int64_t integer(const std::string& key, int64_t dflt) const {
        if (!has(key)) return dflt;
        const json& v = j_.at(key);
        if (!v.is_number_integer()) bad(key, "an integer");
        return v.get<int64_t>();
    }
    double number(const std::string& key, double dflt) const {
        if (!has(key)) return dflt;
        const json& v = j_.at(key);
        if (!v.is_number()) bad(key, "a number");
        return v.get<double>();
    }
    bool boolean(const std::string& key, bool dflt) const {
        if (!has(key)) return dflt;
        const json& v = j_.at(key);
        if (!v.is_boolean()) bad(key, "true or false");
        return v.get<bool>();
    }
    std::string string(const std::string& key, const std::string& dflt) const {
        if (!has(key)) return dflt;
        const json& v = j_.at(key);
        if (!v.is_string()) bad(key, "a string");
        return v.get<std::string>();
    }
    const json& object(const std::string& key) const {
        const json& v = j_.at(key);
        if (!v.is_object()) bad(key, "an object");
        return v;
    }
    const json& raw() const { return j_; }

private:
    const json& j_;
    std::string where_;
    const std::string& source_;
};

TextConfig parse_text(const Fields& f, const std::string& source) {
    TextConfig t;  // field defaults below are transformers' Gemma4TextConfig defaults
    t.vocab_size = f.integer("vocab_size", 262144);
    t.hidden_size = f.integer("hidden_size", 2304);
    t.intermediate_size = f.integer("intermediate_size", 9216);
    t.num_layers = f.integer("num_hidden_layers", 30);
    t.num_heads = f.integer("num_attention_heads", 8);
    t.num_kv_heads = f.integer("num_key_value_heads", 4);
    t.head_dim = f.integer("head_dim", 256);
    t.hidden_activation = f.string("hidden_activation", "gelu_pytorch_tanh");
    t.max_position_embeddings = f.integer("max_position_embeddings", 131072);
    t.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
    t.tie_word_embeddings = f.boolean("tie_word_embeddings", true);
    t.sliding_window = f.integer("sliding_window", 512);
    t.final_logit_softcapping = f.number("final_logit_softcapping", 0.0);
    t.bidirectional_attention = f.string("use_bidirectional_attention", "");
    t.vocab_size_per_layer_input = f.integer("vocab_size_per_layer_input", 262144);
    // An explicit null disables per-layer embeddings (26B/31B); only a missing key takes the default.
    t.hidden_size_per_layer_input =
        f.raw().contains("hidden_size_per_layer_input") && f.raw().at("hidden_size_per_layer_input").is_null()
            ? 0
            : f.integer("hidden_size_per_layer_input", 256);
    t.attention_k_eq_v = f.boolean("attention_k_eq_v", false);
    t.num_kv_shared_layers = f.integer("num_kv_shared_layers", 0);
    t.enable_moe_block = f.boolean("enable_moe_block", false);
    t.use_double_wide_mlp = f.boolean("use_double_wide_mlp", false);
    t.num_experts = f.integer("num_experts", 0);
    t.top_k_experts = f.integer("top_k_experts", 0);
    t.moe_intermediate_size = f.integer("moe_intermediate_size", 0);
    if (t.num_layers < 1 || t.num_layers > 1024)
        throw ModelError(source + ": num_hidden_layers is " + std::to_string(t.num_layers) + ", expected 1..1024");

    if (f.has("layer_types")) {
        const json& lt = f.raw().at("layer_types");
        if (!lt.is_array()) f.bad("layer_types", "a list");
        for (const json& e : lt) {
            if (e == "sliding_attention") t.layer_types.push_back(LayerKind::Sliding);
            else if (e == "full_attention") t.layer_types.push_back(LayerKind::Full);
            else f.bad("layer_types", "a list of \"sliding_attention\" / \"full_attention\"");
        }
    } else {  // transformers: every 6th layer is full
        for (int64_t i = 0; i < t.num_layers; ++i)
            t.layer_types.push_back((i + 1) % 6 ? LayerKind::Sliding : LayerKind::Full);
    }
    if (static_cast<int64_t>(t.layer_types.size()) != t.num_layers)
        throw ModelError(source + ": layer_types lists " + std::to_string(t.layer_types.size()) + " layers, num_hidden_layers is " +
                         std::to_string(t.num_layers));
    t.layer_types.back() = LayerKind::Full;  // transformers forces the last layer full
    if (t.bidirectional_attention == "all") t.sliding_window = t.sliding_window / 2 + 1;

    // Full-layer geometry. Published configs carry global_head_dim / num_global_key_value_heads
    // (the KV-head count applies only with attention_k_eq_v, as in transformers); configs written by
    // transformers >= 5.2x carry per_layer_config {"05": {head_dim, num_key_value_heads}, ...} instead,
    // which then replaces both (layers without an entry keep the base values).
    if (f.has("per_layer_config")) {
        const json& plc = f.object("per_layer_config");
        int64_t hd = -1, kv = -1;
        for (auto it = plc.begin(); it != plc.end(); ++it) {
            int64_t layer = -1;
            const std::string& key = it.key();
            const auto r = std::from_chars(key.data(), key.data() + key.size(), layer);
            if (r.ec != std::errc() || r.ptr != key.data() + key.size() || layer < 0 || layer >= t.num_layers)
                f.bad("per_layer_config", "an object keyed by layer numbers below num_hidden_layers, not \"" + key + "\"");
            if (!it.value().is_object()) f.bad("per_layer_config", "an object of per-layer objects");
            if (t.layer_types[static_cast<size_t>(layer)] != LayerKind::Full)
                throw ModelError(source + ": per_layer_config overrides sliding layer " + key +
                                 "; Gemma 4 overrides only full-attention layers");
            Fields o(it.value(), "per_layer_config." + key + ".", source);
            const int64_t h = o.integer("head_dim", t.head_dim), k = o.integer("num_key_value_heads", t.num_kv_heads);
            if ((hd >= 0 && h != hd) || (kv >= 0 && k != kv))
                throw ModelError(source + ": per_layer_config gives full-attention layers different shapes");
            hd = h;
            kv = k;
        }
        if (static_cast<int64_t>(plc.size()) != t.count_layers(LayerKind::Full) && !plc.empty())
            throw ModelError(source + ": per_layer_config overrides some full-attention layers but not all");
        t.global_head_dim = hd >= 0 ? hd : t.head_dim;
        t.num_global_kv_heads = kv >= 0 && kv != t.num_kv_heads ? kv : 0;
    } else {
        t.global_head_dim = f.integer("global_head_dim", 512);
        t.num_global_kv_heads = t.attention_k_eq_v ? f.integer("num_global_key_value_heads", 0) : 0;
    }

    if (f.has("rope_parameters")) {
        const json& rp = f.object("rope_parameters");
        auto theta = [&](const char* kind, double dflt) {
            if (!rp.contains(kind)) return dflt;
            Fields r(rp.at(kind), std::string("rope_parameters.") + kind + ".", source);
            return r.number("rope_theta", dflt);
        };
        t.rope_theta_sliding = theta("sliding_attention", 10000.0);
        t.rope_theta_full = theta("full_attention", 1000000.0);
        if (rp.contains("full_attention")) {
            Fields r(rp.at("full_attention"), "rope_parameters.full_attention.", source);
            const std::string type = r.string("rope_type", "proportional");
            t.partial_rotary_factor_full = type == "proportional" ? r.number("partial_rotary_factor", 1.0) : 1.0;
        }
    }
    return t;
}

VisionConfig parse_vision(const Fields& f) {
    VisionConfig v;  // defaults: transformers' Gemma4VisionConfig
    v.hidden_size = f.integer("hidden_size", 768);
    v.intermediate_size = f.integer("intermediate_size", 3072);
    v.num_layers = f.integer("num_hidden_layers", 16);
    v.num_heads = f.integer("num_attention_heads", 12);
    v.head_dim = f.integer("head_dim", 64);
    v.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
    v.pooling_kernel_size = f.integer("pooling_kernel_size", 3);
    v.patch_size = f.integer("patch_size", 16);
    v.position_embedding_size = f.integer("position_embedding_size", 10240);
    v.use_clipped_linears = f.boolean("use_clipped_linears", false);
    v.standardize = f.boolean("standardize", false);
    v.default_output_length = f.integer("default_output_length", 280);
    if (f.has("rope_parameters")) {
        const json& rp = f.object("rope_parameters");
        if (rp.contains("rope_theta") && rp.at("rope_theta").is_number()) v.rope_theta = rp.at("rope_theta").get<double>();
    }
    return v;
}

AudioConfig parse_audio(const Fields& f) {
    AudioConfig a;  // defaults: transformers' Gemma4AudioConfig
    a.hidden_size = f.integer("hidden_size", 1024);
    a.num_layers = f.integer("num_hidden_layers", 12);
    a.num_heads = f.integer("num_attention_heads", 8);
    if (f.has("subsampling_conv_channels")) {
        const json& ch = f.raw().at("subsampling_conv_channels");
        if (!ch.is_array() || ch.size() != 2 || !ch[0].is_number_integer() || !ch[1].is_number_integer())
            f.bad("subsampling_conv_channels", "a list of two integers");
        a.subsampling_channels0 = ch[0].get<int64_t>();
        a.subsampling_channels1 = ch[1].get<int64_t>();
    }
    a.conv_kernel_size = f.integer("conv_kernel_size", 5);
    a.residual_weight = f.number("residual_weight", 0.5);
    a.attention_chunk_size = f.integer("attention_chunk_size", 12);
    a.attention_context_left = f.integer("attention_context_left", 13);
    a.attention_context_right = f.integer("attention_context_right", 0);
    a.attention_logit_cap = f.number("attention_logit_cap", 50.0);
    a.use_clipped_linears = f.boolean("use_clipped_linears", true);
    a.rms_norm_eps = f.number("rms_norm_eps", 1e-6);
    a.output_proj_dims = f.integer("output_proj_dims", 1536);
    return a;
}

std::vector<int64_t> id_list(const Fields& f, const std::string& key, std::vector<int64_t> dflt) {
    if (!f.has(key)) return dflt;
    const json& v = f.raw().at(key);
    if (v.is_number_integer()) return {v.get<int64_t>()};
    if (!v.is_array()) f.bad(key, "an id or a list of ids");
    std::vector<int64_t> out;
    for (const json& e : v) {
        if (!e.is_number_integer()) f.bad(key, "a list of integer ids");
        out.push_back(e.get<int64_t>());
    }
    return out;
}

}  // namespace

ModelConfig config_from_hf_json(const json& j, const std::string& source) {
    if (!j.is_object()) throw ModelError(source + ": config.json is not a JSON object");
    Fields top(j, "", source);
    const std::string type = top.string("model_type", "");
    ModelConfig c;
    if (type == "gemma4") {
        if (!top.has("text_config")) throw ModelError(source + ": a gemma4 config needs a text_config");
        c.text = parse_text(Fields(top.object("text_config"), "text_config.", source), source);
        if (top.has("vision_config")) c.vision = parse_vision(Fields(top.object("vision_config"), "vision_config.", source));
        if (top.has("audio_config")) c.audio = parse_audio(Fields(top.object("audio_config"), "audio_config.", source));
        c.tokens.boi = top.integer("boi_token_id", 255999);
        c.tokens.eoi = top.integer("eoi_token_id", 258882);
        c.tokens.image = top.integer("image_token_id", 258880);
        c.tokens.video = top.integer("video_token_id", 258884);
        c.tokens.boa = top.integer("boa_token_id", 256000);
        c.tokens.eoa = top.integer("eoa_token_id", top.integer("eoa_token_index", 258883));
        c.tokens.audio = top.integer("audio_token_id", 258881);
    } else if (type == "gemma4_text") {
        c.text = parse_text(top, source);
    } else if (type.empty()) {
        throw ModelError(source + ": config.json has no model_type; is this a Hugging Face model folder?");
    } else {
        throw ModelError(source + ": model_type is \"" + type + "\", not a Gemma 4 model (\"gemma4\")");
    }
    const Fields text_fields = type == "gemma4" ? Fields(top.object("text_config"), "text_config.", source) : top;
    c.tokens.pad = text_fields.integer("pad_token_id", 0);
    c.tokens.bos = text_fields.integer("bos_token_id", 2);
    c.tokens.stop = id_list(top.has("eos_token_id") ? top : text_fields, "eos_token_id", {1});
    c.tokens.eos = c.tokens.stop.empty() ? 1 : c.tokens.stop.front();
    validate(c, source);
    c.variant = detect_variant(c, &c.tiny_test_preset);
    return c;
}

json config_to_hf_json(const ModelConfig& c) {
    const TextConfig& t = c.text;
    json text = {
        {"model_type", "gemma4_text"},
        {"vocab_size", t.vocab_size},
        {"hidden_size", t.hidden_size},
        {"intermediate_size", t.intermediate_size},
        {"num_hidden_layers", t.num_layers},
        {"num_attention_heads", t.num_heads},
        {"num_key_value_heads", t.num_kv_heads},
        {"head_dim", t.head_dim},
        {"global_head_dim", t.global_head_dim},
        {"hidden_activation", t.hidden_activation},
        {"max_position_embeddings", t.max_position_embeddings},
        {"rms_norm_eps", t.rms_norm_eps},
        {"pad_token_id", c.tokens.pad},
        {"bos_token_id", c.tokens.bos},
        {"eos_token_id", c.tokens.eos},
        {"tie_word_embeddings", t.tie_word_embeddings},
        // transformers halves the window of "all"-bidirectional models on load (W // 2 + 1) and
        // writes the value it started from.
        {"sliding_window", t.bidirectional_attention == "all" ? (t.sliding_window - 1) * 2 : t.sliding_window},
        {"final_logit_softcapping", t.final_logit_softcapping},
        {"vocab_size_per_layer_input", t.vocab_size_per_layer_input},
        {"hidden_size_per_layer_input", t.hidden_size_per_layer_input},
        {"attention_k_eq_v", t.attention_k_eq_v},
        {"num_kv_shared_layers", t.num_kv_shared_layers},
        {"enable_moe_block", t.enable_moe_block},
        {"use_double_wide_mlp", t.use_double_wide_mlp},
        {"attention_bias", false},
        {"attention_dropout", 0.0},
        {"rope_parameters",
         {{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", t.rope_theta_sliding}}},
          {"full_attention",
           {{"rope_type", "proportional"}, {"partial_rotary_factor", t.partial_rotary_factor_full}, {"rope_theta", t.rope_theta_full}}}}},
    };
    json types = json::array();
    for (auto k : t.layer_types) types.push_back(k == LayerKind::Full ? "full_attention" : "sliding_attention");
    text["layer_types"] = types;
    text["use_bidirectional_attention"] = t.bidirectional_attention.empty() ? json(nullptr) : json(t.bidirectional_attention);
    if (t.num_global_kv_heads > 0 && !t.attention_k_eq_v) {
        // The published form cannot say this (its global KV heads need K=V): write per-layer overrides.
        json plc = json::object();
        char key[24];
        for (int64_t i = 0; i < t.num_layers; ++i)
            if (t.is_full(i)) {
                std::snprintf(key, sizeof key, "%02lld", static_cast<long long>(i));
                plc[key] = {{"head_dim", t.global_head_dim}, {"num_key_value_heads", t.num_global_kv_heads}};
            }
        text["per_layer_config"] = plc;
        text.erase("global_head_dim");
    } else {
        text["num_global_key_value_heads"] = t.num_global_kv_heads > 0 ? json(t.num_global_kv_heads) : json(nullptr);
    }
    if (t.enable_moe_block) {
        text["num_experts"] = t.num_experts;
        text["top_k_experts"] = t.top_k_experts;
        text["moe_intermediate_size"] = t.moe_intermediate_size;
    } else {
        text["num_experts"] = nullptr;
        text["top_k_experts"] = nullptr;
        text["moe_intermediate_size"] = nullptr;
    }
    json j = {
        {"architectures", {"Gemma4ForConditionalGeneration"}},
        {"model_type", "gemma4"},
        {"text_config", text},
        {"boi_token_id", c.tokens.boi},
        {"eoi_token_id", c.tokens.eoi},
        {"image_token_id", c.tokens.image},
        {"video_token_id", c.tokens.video},
        {"boa_token_id", c.tokens.boa},
        {"eoa_token_id", c.tokens.eoa},
        {"eoa_token_index", c.tokens.eoa},
        {"audio_token_id", c.tokens.audio},
        {"eos_token_id", c.tokens.stop},
        {"tie_word_embeddings", t.tie_word_embeddings},
        {"torch_dtype", "bfloat16"},
    };
    if (c.vision) {
        const VisionConfig& v = *c.vision;
        j["vision_config"] = {
            {"model_type", "gemma4_vision"},
            {"hidden_size", v.hidden_size},
            {"intermediate_size", v.intermediate_size},
            {"num_hidden_layers", v.num_layers},
            {"num_attention_heads", v.num_heads},
            {"num_key_value_heads", v.num_heads},
            {"head_dim", v.head_dim},
            {"hidden_activation", "gelu_pytorch_tanh"},
            {"rms_norm_eps", v.rms_norm_eps},
            {"pooling_kernel_size", v.pooling_kernel_size},
            {"patch_size", v.patch_size},
            {"position_embedding_size", v.position_embedding_size},
            {"use_clipped_linears", v.use_clipped_linears},
            {"standardize", v.standardize},
            {"default_output_length", v.default_output_length},
            {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", v.rope_theta}}},
        };
    } else {
        j["vision_config"] = nullptr;
    }
    if (c.audio) {
        const AudioConfig& a = *c.audio;
        j["audio_config"] = {
            {"model_type", "gemma4_audio"},
            {"hidden_size", a.hidden_size},
            {"num_hidden_layers", a.num_layers},
            {"num_attention_heads", a.num_heads},
            {"hidden_act", "silu"},
            {"subsampling_conv_channels", {a.subsampling_channels0, a.subsampling_channels1}},
            {"conv_kernel_size", a.conv_kernel_size},
            {"residual_weight", a.residual_weight},
            {"attention_chunk_size", a.attention_chunk_size},
            {"attention_context_left", a.attention_context_left},
            {"attention_context_right", a.attention_context_right},
            {"attention_logit_cap", a.attention_logit_cap},
            {"attention_invalid_logits_value", -1e9},
            {"use_clipped_linears", a.use_clipped_linears},
            {"rms_norm_eps", a.rms_norm_eps},
            {"gradient_clipping", 1e10},
            {"output_proj_dims", a.output_proj_dims},
        };
    } else {
        j["audio_config"] = nullptr;
    }
    return j;
}

}  // namespace gd
