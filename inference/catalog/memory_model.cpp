#include "catalog/memory_model.h"

#include <algorithm>

#include "format/storage_type.h"
#include "model/model_files.h"
#include "model/tensor_names.h"

namespace gd {

const char* kv_cache_type_name(KvCacheType t) {
    switch (t) {
        case KvCacheType::F32: return "f32";
        case KvCacheType::F16: return "f16";
        case KvCacheType::Q8_0: return "q8_0";
    }
    return "?";
}

bool kv_cache_type_from_name(const std::string& name, KvCacheType& out) {
    for (KvCacheType t : {KvCacheType::F32, KvCacheType::F16, KvCacheType::Q8_0})
        if (name == kv_cache_type_name(t)) {
            out = t;
            return true;
        }
    return false;
}

uint64_t WeightLayout::layers_bytes(int64_t first, int64_t end) const {
    uint64_t n = 0;
    for (int64_t i = std::max<int64_t>(0, first); i < std::min<int64_t>(end, static_cast<int64_t>(layer_bytes.size())); ++i)
        n += layer_bytes[static_cast<size_t>(i)];
    return n;
}

namespace {

void add_tensor(WeightLayout& w, const ExpectedTensor& spec, uint64_t bytes) {
    if (part_is_vision(spec.part)) w.vision += bytes;
    else if (part_is_audio(spec.part)) w.audio += bytes;
    else if (spec.part == Part::PleTable) w.ple_table += bytes;
    else if (spec.layer >= 0 && static_cast<size_t>(spec.layer) < w.layer_bytes.size())
        w.layer_bytes[static_cast<size_t>(spec.layer)] += bytes;
    else w.text_global += bytes;
}

// Bytes per cached element: q8_0 keeps a 2-byte scale per 32 values (KV rows are multiples of 32).
double kv_element_bytes(KvCacheType t) {
    switch (t) {
        case KvCacheType::F32: return 4.0;
        case KvCacheType::F16: return 2.0;
        case KvCacheType::Q8_0: return 34.0 / 32.0;
    }
    return 4.0;
}

}  // namespace

WeightLayout weight_layout(const ModelFiles& files) {
    WeightLayout w;
    w.layer_bytes.assign(static_cast<size_t>(files.config().text.num_layers), 0);
    for (const ModelTensor& t : files.tensors()) add_tensor(w, t.spec, t.view.nbytes);
    return w;
}

WeightLayout weight_layout_for(const ModelConfig& config, DType type) {
    WeightLayout w;
    w.layer_bytes.assign(static_cast<size_t>(config.text.num_layers), 0);
    for (const ExpectedTensor& t : expected_tensors(config)) {
        // Absent from the files we write and from llama.cpp's (per_dim_k_scale is an optional extension).
        if ((t.optional && !t.gguf_only) || t.name.find("per_dim_k_scale") != std::string::npos) continue;
        const std::vector<uint64_t>& shape = t.gguf_shape.empty() ? t.shape : t.gguf_shape;
        const std::vector<uint64_t> stored = shape.empty() ? std::vector<uint64_t>{1} : shape;
        uint64_t n = 1;
        for (uint64_t d : stored) n *= d;
        add_tensor(w, t, dtype_bytes(gguf_storage_type(t.name, stored, type), n));
    }
    return w;
}

uint64_t kv_bytes(const TextConfig& c, int64_t context, int64_t chunk, KvCacheType type, int64_t first, int64_t end) {
    if (context <= 0) return 0;
    if (end < 0 || end > c.num_layers) end = c.num_layers;
    const int64_t ch = std::max<int64_t>(1, std::min(chunk, context));
    double bytes = 0;
    for (int64_t i = std::max<int64_t>(0, first); i < end; ++i) {
        if (c.is_kv_shared(i)) continue;  // reads its donor's cache
        int64_t capacity = context;
        if (!c.is_full(i)) capacity = std::min(capacity, c.sliding_window + ch - 1);
        // K and V, kv_heads * head_dim per position (K=V full layers still keep both).
        bytes += 2.0 * static_cast<double>(capacity) * static_cast<double>(c.layer_kv_heads(i) * c.layer_head_dim(i)) *
                 kv_element_bytes(type);
    }
    return static_cast<uint64_t>(bytes);
}

uint64_t text_activation_bytes(const TextConfig& c, int64_t chunk) {
    const uint64_t T = static_cast<uint64_t>(std::max<int64_t>(1, chunk)), H = static_cast<uint64_t>(c.hidden_size);
    const uint64_t LP = c.has_ple() ? static_cast<uint64_t>(c.num_layers * c.hidden_size_per_layer_input) : 0;
    uint64_t block = 0;
    for (int64_t i = 0; i < c.num_layers; ++i) {
        const uint64_t q = static_cast<uint64_t>(c.num_heads * c.layer_head_dim(i));
        const uint64_t kv = c.is_kv_shared(i) ? 0 : static_cast<uint64_t>(c.layer_kv_heads(i) * c.layer_head_dim(i));
        // attention: h, q and the raw K, V and normalised K; later h, q, the attention output and o.
        block = std::max({block, H + q + 3 * kv, 2 * H + 2 * q});
        // dense MLP: h, gate, up, out; MoE: h, the dense output, the experts' input and output, routing.
        const uint64_t I = static_cast<uint64_t>(c.layer_ffn_width(i));
        block = std::max(block, 2 * H + 2 * I);
        if (c.enable_moe_block)
            block = std::max(block, 4 * H + static_cast<uint64_t>(c.num_experts + 2 * c.top_k_experts));
    }
    // The residual and the per-layer inputs live through the whole chunk; while the per-layer inputs
    // are formed, their token part and context part exist at once.
    return 4 * T * (H + std::max(2 * LP, LP + block));
}

uint64_t logits_bytes(const TextConfig& c, int64_t rows) {
    return 4 * static_cast<uint64_t>(std::max<int64_t>(1, rows)) * static_cast<uint64_t>(c.vocab_size + c.hidden_size);
}

uint64_t vision_activation_bytes(const VisionConfig& v, int64_t text_hidden, int64_t soft_tokens) {
    const uint64_t k = static_cast<uint64_t>(v.pooling_kernel_size * v.pooling_kernel_size);
    const uint64_t n = k * static_cast<uint64_t>(std::max<int64_t>(1, soft_tokens));
    const uint64_t Hv = static_cast<uint64_t>(v.hidden_size), F = static_cast<uint64_t>(v.intermediate_size);
    const uint64_t qkv = static_cast<uint64_t>(v.num_heads * v.head_dim);
    const uint64_t patch = static_cast<uint64_t>(v.patch_size * v.patch_size * 3);
    // Patch embedding: patches, embedding and the two position rows; a layer: the residual plus its
    // norms and q/k/v/attention output, or its norms and gate/up.
    const uint64_t per_patch = std::max({patch + 3 * Hv, Hv + 2 * Hv + 4 * qkv, Hv + 2 * Hv + 2 * F});
    return 4 * (n * per_patch + static_cast<uint64_t>(soft_tokens) * static_cast<uint64_t>(text_hidden + 2 * v.hidden_size));
}

uint64_t audio_activation_bytes(const AudioConfig& a, int64_t text_hidden) {
    // 30 s at 10 ms per mel frame; two stride-2 convolutions (25 tokens per second).
    const uint64_t T0 = 3000, T1 = T0 / 2, F1 = static_cast<uint64_t>(a.n_mels / 2);
    const uint64_t T2 = T1 / 2, F2 = F1 / 2;
    const uint64_t C0 = static_cast<uint64_t>(a.subsampling_channels0), C1 = static_cast<uint64_t>(a.subsampling_channels1);
    const uint64_t Ha = static_cast<uint64_t>(a.hidden_size);
    const uint64_t sscp = std::max(T1 * F1 * (C0 + 9) * 2,  // block 0 output and patches, plus the host copy
                                   T1 * F1 * C0 + T2 * F2 * C1 + 8 * F2 * C0 * 9);
    const uint64_t conformer = T2 * (Ha + std::max(Ha + static_cast<uint64_t>(a.ffn_size()), 6 * Ha));
    return 4 * (std::max(sscp, conformer) + T2 * static_cast<uint64_t>(2 * a.output_proj_dims + text_hidden));
}

uint64_t MemoryEstimate::gpu_total() const {
    uint64_t n = 0;
    for (const MemoryPart& p : parts) n += p.gpu;
    return n;
}

uint64_t MemoryEstimate::host_total() const {
    uint64_t n = 0;
    for (const MemoryPart& p : parts) n += p.host;
    return n;
}

MemoryEstimate estimate_memory_parts(const ModelConfig& c, const WeightLayout& w, const MemoryRequest& r) {
    const TextConfig& t = c.text;
    const int64_t L = t.num_layers;
    const int64_t g = r.gpu ? std::clamp<int64_t>(r.gpu_layers, 0, L) : 0;
    const bool full = r.gpu && g == L;
    // As the engine places a split (engine.cpp): the embedding and head, the towers and the logits stay
    // with the first layers on the GPU; only the later decoder layers and their caches go to the CPU.
    const bool gpu_main = r.gpu && g > 0;
    const int64_t context = std::min(r.context, t.max_position_embeddings);
    MemoryEstimate e;
    auto part = [&](std::string name, uint64_t gpu, uint64_t host, std::string note) {
        e.parts.push_back({std::move(name), gpu, host, std::move(note)});
    };

    const uint64_t layers_gpu = w.layers_bytes(0, g), layers_host = w.layers_bytes(g, L);
    part("text weights", layers_gpu + (gpu_main ? w.text_global : 0), layers_host + (gpu_main ? 0 : w.text_global),
         std::to_string(g) + " of " + std::to_string(L) + " decoder layers on the GPU" +
             (gpu_main ? "; embedding and head too" : "; embedding and head in host memory"));
    if (w.ple_table) part("per-layer embedding table", 0, w.ple_table, "host memory on every device: one row per token");
    if (c.vision && w.vision) part("vision tower", gpu_main ? w.vision : 0, gpu_main ? 0 : w.vision, "");
    if (c.audio && w.audio) part("audio tower", gpu_main ? w.audio : 0, gpu_main ? 0 : w.audio, "");

    const uint64_t kv_gpu = kv_bytes(t, context, r.chunk, r.cache, 0, g);
    const uint64_t kv_host = kv_bytes(t, context, r.chunk, r.cache, g, L);
    std::string kv_note = std::string(kv_cache_type_name(r.cache)) + ", " + std::to_string(context) + " tokens";
    if (!kv_cache_type_implemented(r.cache)) kv_note += " (planned cache type: the engine allocates f32 today)";
    part("KV cache", kv_gpu, kv_host, kv_note);
    e.kv_f32 = kv_bytes(t, context, r.chunk, KvCacheType::F32);
    e.kv_f16 = kv_bytes(t, context, r.chunk, KvCacheType::F16);
    e.kv_q8_0 = kv_bytes(t, context, r.chunk, KvCacheType::Q8_0);

    // The text chunk, an image and an audio piece are encoded one after another: the peak counts.
    const uint64_t text_act = text_activation_bytes(t, r.chunk);
    const uint64_t vision_act = c.vision && w.vision ? vision_activation_bytes(*c.vision, t.hidden_size, r.image_tokens) : 0;
    const uint64_t audio_act = c.audio && w.audio ? audio_activation_bytes(*c.audio, t.hidden_size) : 0;
    const uint64_t act = std::max({text_act, vision_act, audio_act});
    std::string act_note = "peak of: text chunk of " + std::to_string(r.chunk) + " tokens " +
                           std::to_string(text_act >> 20) + " MiB";
    if (vision_act) act_note += ", image of " + std::to_string(r.image_tokens) + " tokens " + std::to_string(vision_act >> 20) + " MiB";
    if (audio_act) act_note += ", 30 s audio piece " + std::to_string(audio_act >> 20) + " MiB";
    // A split runs layers on both sides: each holds the chunk's buffers; the towers run on the GPU.
    if (full) part("activations", act, 0, act_note);
    else if (gpu_main) part("activations", act, text_act, act_note);
    else part("activations", 0, act, act_note);
    part("logits", gpu_main ? logits_bytes(t, r.logit_rows) : 0, gpu_main ? 0 : logits_bytes(t, r.logit_rows),
         std::to_string(r.logit_rows) + " row(s) of " + std::to_string(t.vocab_size) + " f32");
    if (r.gpu && g > 0) part("CUDA context", kCudaContextBytes, 0, "context, cuBLAS handle and workspace (a fixed figure)");
    part("runtime", 0, kRuntimeHostBytes, "program, tokenizer, allocator slack (a fixed figure)");
    return e;
}

}  // namespace gd
