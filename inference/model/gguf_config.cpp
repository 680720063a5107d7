#include "model/gguf_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "common/error.h"
#include "format/gguf_writer.h"
#include "format/quant/quant.h"

namespace gd {
namespace {

const char* kArch = "gemma4";

std::string key(const char* k) { return std::string(kArch) + "." + k; }

// A metadata value that is either one number for every layer or an array with one per layer.
std::vector<int64_t> per_layer(const GgufFile& f, const std::string& k, int64_t n_layers, bool required, int64_t dflt) {
    const GgufValue* v = f.find(k);
    if (!v) {
        if (required) throw ModelError(f.path() + ": metadata key '" + k + "' is missing");
        return std::vector<int64_t>(static_cast<size_t>(n_layers), dflt);
    }
    try {
        if (v->type == GgufType::ARRAY) {
            if (static_cast<int64_t>(v->array.size()) != n_layers)
                throw ModelError(f.path() + ": metadata key '" + k + "' has " + std::to_string(v->array.size()) +
                                 " entries for " + std::to_string(n_layers) + " layers");
            std::vector<int64_t> out;
            for (const auto& e : v->array) out.push_back(e.as_int());
            return out;
        }
        return std::vector<int64_t>(static_cast<size_t>(n_layers), v->as_int());
    } catch (const FormatError& e) {
        throw ModelError(f.path() + ": metadata key '" + k + "': " + e.what());
    }
}

int64_t req_int(const GgufFile& f, const std::string& k) {
    auto v = f.get_int_opt(k);
    if (!v) throw ModelError(f.path() + ": metadata key '" + k + "' is missing");
    return *v;
}

void read_vision(const GgufFile& m, ModelConfig& c) {
    VisionConfig v;
    v.hidden_size = req_int(m, "clip.vision.embedding_length");
    v.intermediate_size = req_int(m, "clip.vision.feed_forward_length");
    v.num_layers = req_int(m, "clip.vision.block_count");
    v.num_heads = req_int(m, "clip.vision.attention.head_count");
    if (v.num_heads <= 0 || v.hidden_size % v.num_heads != 0)
        throw ModelError(m.path() + ": vision embedding length " + std::to_string(v.hidden_size) + " is not a multiple of " +
                         std::to_string(v.num_heads) + " heads");
    v.head_dim = v.hidden_size / v.num_heads;
    v.patch_size = m.get_int_opt("clip.vision.patch_size").value_or(16);
    v.rms_norm_eps = m.get_float_opt("clip.vision.attention.layer_norm_epsilon").value_or(1e-6);
    v.pooling_kernel_size = 3;  // hard-coded for gemma4v in llama.cpp as well
    v.rope_theta = 100.0;
    if (const GgufTensorInfo* pos = m.find_tensor("v.position_embd.weight"); pos && pos->ne.size() >= 2)
        v.position_embedding_size = static_cast<int64_t>(pos->ne[1]);
    v.use_clipped_linears = m.find_tensor("v.blk.0.attn_q.input_min") != nullptr;
    v.standardize = m.find_tensor("v.std_bias") != nullptr;
    c.vision = v;
}

void read_audio(const GgufFile& m, ModelConfig& c) {
    AudioConfig a;
    a.hidden_size = req_int(m, "clip.audio.embedding_length");
    a.num_layers = req_int(m, "clip.audio.block_count");
    a.num_heads = req_int(m, "clip.audio.attention.head_count");
    a.n_mels = m.get_int_opt("clip.audio.num_mel_bins").value_or(128);
    a.rms_norm_eps = 1e-6;  // the file says 1e-5 but the graph uses 1e-6 (spec §6.4)
    if (const GgufTensorInfo* c0 = m.find_tensor("a.conv1d.0.weight"); c0 && c0->ne.size() == 4)
        a.subsampling_channels0 = static_cast<int64_t>(c0->ne[3]);
    if (const GgufTensorInfo* c1 = m.find_tensor("a.conv1d.1.weight"); c1 && c1->ne.size() == 4)
        a.subsampling_channels1 = static_cast<int64_t>(c1->ne[3]);
    if (const GgufTensorInfo* dw = m.find_tensor("a.blk.0.conv_dw.weight"); dw && !dw->ne.empty())
        a.conv_kernel_size = static_cast<int64_t>(dw->ne[0]);
    if (const GgufTensorInfo* out = m.find_tensor("a.pre_encode.out.weight"); out && out->ne.size() == 2)
        a.output_proj_dims = static_cast<int64_t>(out->ne[1]);
    a.use_clipped_linears = m.find_tensor("a.blk.0.attn_q.input_min") != nullptr;
    c.audio = a;
}

// Number of rotated pairs from llama.cpp's rope_freqs (1.0 = rotated, 1e30 = not).
int64_t rotated_pairs(const GgufFile& f, const GgufTensorInfo& t) {
    const TensorView v = f.view(t);
    if (!dtype_info(v.type).dequantizable || v.elements() > 65536) return -1;
    std::vector<float> x(v.elements());
    dequantize_row(v.type, v.data, x.data(), x.size());
    int64_t n = 0;
    for (float e : x) n += e < 1e10f;
    return n;
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& f, const GgufFile* mmproj,
                             const std::vector<std::shared_ptr<const GgufFile>>& parts) {
    // A tensor of the text model, in whichever part of a split model holds it.
    auto find_text_tensor = [&](const std::string& name) -> std::pair<const GgufFile*, const GgufTensorInfo*> {
        if (const GgufTensorInfo* t = f.find_tensor(name)) return {&f, t};
        for (const auto& p : parts)
            if (const GgufTensorInfo* t = p->find_tensor(name)) return {p.get(), t};
        return {nullptr, nullptr};
    };
    const std::string arch = f.architecture();
    if (arch != kArch) {
        if (arch == "clip")
            throw ModelError(f.path() + " is a vision/audio projector (mmproj) file; give the text model file, the mmproj is found next to it");
        throw ModelError(f.path() + ": architecture is \"" + arch + "\", not Gemma 4 (\"gemma4\")");
    }
    ModelConfig c;
    TextConfig& t = c.text;
    t.num_layers = req_int(f, key("block_count"));
    if (t.num_layers < 1 || t.num_layers > 1024) throw ModelError(f.path() + ": block_count " + std::to_string(t.num_layers) + " is out of range");
    const int64_t L = t.num_layers;
    t.hidden_size = req_int(f, key("embedding_length"));
    t.num_heads = req_int(f, key("attention.head_count"));
    t.max_position_embeddings = f.get_int_opt(key("context_length")).value_or(131072);
    t.rms_norm_eps = f.get_float_opt(key("attention.layer_norm_rms_epsilon")).value_or(1e-6);
    // The file stores 1e-6 as a float32: take the shortest decimal that rounds to that float (1e-6),
    // the value the model was trained with, independent of the locale.
    {
        char buf[32];
        const auto w = std::to_chars(buf, buf + sizeof buf, static_cast<float>(t.rms_norm_eps));
        double eps = t.rms_norm_eps;
        std::from_chars(buf, w.ptr, eps);
        t.rms_norm_eps = eps;
    }
    t.global_head_dim = f.get_int_opt(key("attention.key_length")).value_or(512);
    t.head_dim = f.get_int_opt(key("attention.key_length_swa")).value_or(256);
    t.sliding_window = f.get_int_opt(key("attention.sliding_window")).value_or(0);
    t.num_kv_shared_layers = f.get_int_opt(key("attention.shared_kv_layers")).value_or(0);
    t.hidden_size_per_layer_input = f.get_int_opt(key("embedding_length_per_layer_input")).value_or(0);
    t.final_logit_softcapping = f.get_float_opt(key("final_logit_softcapping")).value_or(0.0);
    t.rope_theta_full = f.get_float_opt(key("rope.freq_base")).value_or(1e6);
    t.rope_theta_sliding = f.get_float_opt(key("rope.freq_base_swa")).value_or(1e4);

    // Layer kinds: sliding_window_pattern is one bool per layer (true = sliding).
    const GgufValue* swa = f.find(key("attention.sliding_window_pattern"));
    if (!swa || swa->type != GgufType::ARRAY || static_cast<int64_t>(swa->array.size()) != L)
        throw ModelError(f.path() + ": metadata key '" + key("attention.sliding_window_pattern") +
                         "' must list one bool per layer");
    for (const auto& e : swa->array) {
        try {
            t.layer_types.push_back(e.as_bool() ? LayerKind::Sliding : LayerKind::Full);
        } catch (const FormatError& err) {
            throw ModelError(f.path() + ": sliding_window_pattern: " + err.what());
        }
    }

    // Feed-forward width: one number, or one per layer (E2B's double-wide shared layers).
    const auto ffn = per_layer(f, key("feed_forward_length"), L, true, 0);
    t.intermediate_size = ffn[0];
    for (int64_t i = 0; i < L; ++i) {
        if (ffn[i] == t.intermediate_size) continue;
        if (ffn[i] == 2 * t.intermediate_size && i >= L - t.num_kv_shared_layers) {
            t.use_double_wide_mlp = true;
            continue;
        }
        throw ModelError(f.path() + ": feed_forward_length of layer " + std::to_string(i) + " is " + std::to_string(ffn[i]) +
                         "; Gemma 4 layers have " + std::to_string(t.intermediate_size) + " (or twice that on KV-shared layers)");
    }
    // KV heads: one number, or one per layer (26B/31B: fewer on full layers).
    const auto kvh = per_layer(f, key("attention.head_count_kv"), L, true, 0);
    for (int64_t i = 0; i < L; ++i) {
        if (t.layer_types[i] == LayerKind::Sliding) {
            if (t.num_kv_heads == 0) t.num_kv_heads = kvh[i];
            else if (kvh[i] != t.num_kv_heads)
                throw ModelError(f.path() + ": sliding layers have different KV head counts");
        } else if (t.num_global_kv_heads == 0) {
            t.num_global_kv_heads = kvh[i];
        } else if (kvh[i] != t.num_global_kv_heads) {
            throw ModelError(f.path() + ": full-attention layers have different KV head counts");
        }
    }
    if (t.num_kv_heads == 0) t.num_kv_heads = t.num_global_kv_heads;

    // K=V: full layers that compute K/V have no attn_v tensor.
    for (int64_t i = 0; i < L - t.num_kv_shared_layers; ++i) {
        if (t.layer_types[i] != LayerKind::Full) continue;
        t.attention_k_eq_v = find_text_tensor("blk." + std::to_string(i) + ".attn_v.weight").second == nullptr;
        break;
    }
    if (t.num_global_kv_heads == t.num_kv_heads) t.num_global_kv_heads = 0;

    if (auto [rf_file, rf] = find_text_tensor("rope_freqs.weight"); rf) {
        const int64_t pairs = rotated_pairs(*rf_file, *rf);
        if (pairs > 0) t.partial_rotary_factor_full = 2.0 * static_cast<double>(pairs) / static_cast<double>(t.global_head_dim);
    }

    if (auto experts = f.get_int_opt(key("expert_count")); experts && *experts > 0) {
        t.enable_moe_block = true;
        t.num_experts = *experts;
        t.top_k_experts = req_int(f, key("expert_used_count"));
        t.moe_intermediate_size = req_int(f, key("expert_feed_forward_length"));
    }

    // Vocabulary: the token list, else the embedding's rows.
    if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->type == GgufType::ARRAY)
        t.vocab_size = static_cast<int64_t>(tokens->array.size());
    else if (const GgufTensorInfo* emb = find_text_tensor("token_embd.weight").second; emb && emb->ne.size() == 2)
        t.vocab_size = static_cast<int64_t>(emb->ne[1]);
    if (const GgufTensorInfo* ple = find_text_tensor("per_layer_token_embd.weight").second; ple && ple->ne.size() == 2)
        t.vocab_size_per_layer_input = static_cast<int64_t>(ple->ne[1]);
    else if (t.has_ple())
        t.vocab_size_per_layer_input = t.vocab_size;
    // GGUF has no key for it; the K=V family (26B/31B) is the one trained with bidirectional image attention.
    t.bidirectional_attention = t.attention_k_eq_v ? "vision" : "";

    c.tokens.bos = f.get_int_opt("tokenizer.ggml.bos_token_id").value_or(2);
    const int64_t file_eos = f.get_int_opt("tokenizer.ggml.eos_token_id").value_or(1);
    c.tokens.eos = file_eos;
    c.tokens.pad = f.get_int_opt("tokenizer.ggml.padding_token_id").value_or(0);
    // Stop on <eos>, <turn|> and <|tool_response> (spec §5.5) and on whatever the file calls its eos
    // (instruction-tuned conversions often store <turn|> there).
    c.tokens.stop = {file_eos};
    auto add_stop = [&](int64_t id) {
        if (id >= 0 && std::find(c.tokens.stop.begin(), c.tokens.stop.end(), id) == c.tokens.stop.end())
            c.tokens.stop.push_back(id);
    };
    // Special tokens by their strings (spec §5.2); ids differ between vocabularies.
    if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens"); tokens && tokens->type == GgufType::ARRAY) {
        auto id_of = [&](const char* s) -> int64_t {
            for (size_t i = 0; i < tokens->array.size(); ++i)
                if (tokens->array[i].type == GgufType::STRING && tokens->array[i].s == s) return static_cast<int64_t>(i);
            return -1;
        };
        c.tokens.boi = id_of("<|image>");
        c.tokens.eoi = id_of("<image|>");
        c.tokens.boa = id_of("<|audio>");
        c.tokens.eoa = id_of("<audio|>");
        c.tokens.image = id_of("<|image|>");
        c.tokens.audio = id_of("<|audio|>");
        c.tokens.video = id_of("<|video|>");
        if (const int64_t eos = id_of("<eos>"); eos >= 0) c.tokens.eos = eos;
        for (const char* s : {"<eos>", "<turn|>", "<|tool_response>"}) add_stop(id_of(s));
    }

    if (mmproj) {
        if (mmproj->architecture() != "clip")
            throw ModelError(mmproj->path() + ": architecture is \"" + mmproj->architecture() + "\", not an mmproj (\"clip\") file");
        if (mmproj->get_bool_opt("clip.has_vision_encoder").value_or(false)) read_vision(*mmproj, c);
        if (mmproj->get_bool_opt("clip.has_audio_encoder").value_or(false)) read_audio(*mmproj, c);
        for (const char* k : {"clip.vision.projection_dim", "clip.audio.projection_dim"}) {
            auto dim = mmproj->get_int_opt(k);
            if (dim && *dim != t.hidden_size)
                throw ModelError(mmproj->path() + ": " + k + " is " + std::to_string(*dim) + " but the text model " + f.path() +
                                 " has hidden size " + std::to_string(t.hidden_size) + ": this mmproj belongs to another model");
        }
    }
    validate(c, f.path());
    c.variant = detect_variant(c, &c.tiny_test_preset);
    return c;
}

void write_gguf_text_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name) {
    const TextConfig& t = c.text;
    const int64_t L = t.num_layers;
    w.set_string("general.architecture", kArch);
    w.set_string("general.type", "model");
    w.set_string("general.name", name);
    w.set_u32("general.quantization_version", 2);
    w.set_u32(key("context_length"), static_cast<uint32_t>(t.max_position_embeddings));
    w.set_u32(key("embedding_length"), static_cast<uint32_t>(t.hidden_size));
    w.set_u32(key("block_count"), static_cast<uint32_t>(L));
    std::vector<GgufValue> ffn, kvh, swa;
    for (int64_t i = 0; i < L; ++i) {
        ffn.push_back(GgufValue::make_i32(static_cast<int32_t>(t.layer_ffn_width(i))));
        kvh.push_back(GgufValue::make_i32(static_cast<int32_t>(t.layer_kv_heads(i))));
        swa.push_back(GgufValue::make_bool(!t.is_full(i)));
    }
    if (t.use_double_wide_mlp) w.set(key("feed_forward_length"), GgufValue::make_array(GgufType::INT32, ffn));
    else w.set_u32(key("feed_forward_length"), static_cast<uint32_t>(t.intermediate_size));
    w.set_u32(key("attention.head_count"), static_cast<uint32_t>(t.num_heads));
    if (t.num_global_kv_heads > 0 && t.num_global_kv_heads != t.num_kv_heads)
        w.set(key("attention.head_count_kv"), GgufValue::make_array(GgufType::INT32, kvh));
    else w.set_u32(key("attention.head_count_kv"), static_cast<uint32_t>(t.num_kv_heads));
    w.set_f32(key("attention.layer_norm_rms_epsilon"), static_cast<float>(t.rms_norm_eps));
    w.set_u32(key("attention.key_length"), static_cast<uint32_t>(t.global_head_dim));
    w.set_u32(key("attention.value_length"), static_cast<uint32_t>(t.global_head_dim));
    w.set_u32(key("attention.key_length_swa"), static_cast<uint32_t>(t.head_dim));
    w.set_u32(key("attention.value_length_swa"), static_cast<uint32_t>(t.head_dim));
    w.set_f32(key("rope.freq_base"), static_cast<float>(t.rope_theta_full));
    w.set_f32(key("rope.freq_base_swa"), static_cast<float>(t.rope_theta_sliding));
    w.set_u32(key("rope.dimension_count"), static_cast<uint32_t>(t.global_head_dim));
    w.set_u32(key("rope.dimension_count_swa"), static_cast<uint32_t>(t.head_dim));
    w.set_u32(key("attention.sliding_window"), static_cast<uint32_t>(t.sliding_window));
    w.set(key("attention.sliding_window_pattern"), GgufValue::make_array(GgufType::BOOL, swa));
    w.set_u32(key("attention.shared_kv_layers"), static_cast<uint32_t>(t.num_kv_shared_layers));
    w.set_u32(key("embedding_length_per_layer_input"), static_cast<uint32_t>(t.hidden_size_per_layer_input));
    w.set_f32(key("final_logit_softcapping"), static_cast<float>(t.final_logit_softcapping));
    if (t.enable_moe_block) {
        w.set_u32(key("expert_count"), static_cast<uint32_t>(t.num_experts));
        w.set_u32(key("expert_used_count"), static_cast<uint32_t>(t.top_k_experts));
        w.set_u32(key("expert_feed_forward_length"), static_cast<uint32_t>(t.moe_intermediate_size));
    }
}

void write_gguf_mmproj_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name) {
    w.set_string("general.architecture", "clip");
    w.set_string("general.type", "mmproj");
    w.set_string("general.name", name);
    w.set_bool("clip.has_vision_encoder", c.vision.has_value());
    w.set_bool("clip.has_audio_encoder", c.audio.has_value());
    if (c.vision) {
        const VisionConfig& v = *c.vision;
        w.set_string("clip.vision.projector_type", "gemma4v");
        w.set_u32("clip.vision.embedding_length", static_cast<uint32_t>(v.hidden_size));
        w.set_u32("clip.vision.feed_forward_length", static_cast<uint32_t>(v.intermediate_size));
        w.set_u32("clip.vision.block_count", static_cast<uint32_t>(v.num_layers));
        w.set_u32("clip.vision.attention.head_count", static_cast<uint32_t>(v.num_heads));
        w.set_f32("clip.vision.attention.layer_norm_epsilon", static_cast<float>(v.rms_norm_eps));
        w.set_u32("clip.vision.patch_size", static_cast<uint32_t>(v.patch_size));
        w.set_u32("clip.vision.projection_dim", static_cast<uint32_t>(c.text.hidden_size));
        w.set_u32("clip.vision.image_size", 224);
        std::vector<GgufValue> zeros(3, GgufValue::make_f32(0.f)), ones(3, GgufValue::make_f32(1.f));
        w.set("clip.vision.image_mean", GgufValue::make_array(GgufType::FLOAT32, zeros));
        w.set("clip.vision.image_std", GgufValue::make_array(GgufType::FLOAT32, ones));
    }
    if (c.audio) {
        const AudioConfig& a = *c.audio;
        w.set_string("clip.audio.projector_type", "gemma4a");
        w.set_u32("clip.audio.num_mel_bins", static_cast<uint32_t>(a.n_mels));
        w.set_u32("clip.audio.embedding_length", static_cast<uint32_t>(a.hidden_size));
        w.set_u32("clip.audio.feed_forward_length", static_cast<uint32_t>(a.ffn_size()));
        w.set_u32("clip.audio.block_count", static_cast<uint32_t>(a.num_layers));
        w.set_u32("clip.audio.attention.head_count", static_cast<uint32_t>(a.num_heads));
        w.set_f32("clip.audio.attention.layer_norm_epsilon", 1e-5f);  // what llama.cpp's converter writes
        w.set_u32("clip.audio.projection_dim", static_cast<uint32_t>(c.text.hidden_size));
    }
}

}  // namespace gd
