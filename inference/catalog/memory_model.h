#pragma once
// The memory a Gemma 4 model needs, part by part (spec §7): weights by stored type, split into what
// each decoder layer holds (for a GPU/CPU split), the per-layer-embedding table (host memory), the
// towers; the KV cache for a context length (sliding layers a ring of the window plus one chunk,
// full layers the whole context, KV-shared layers nothing); the activations of one prefill chunk, of
// the vision tower at an image budget and of one 30 s audio piece; the logits row; the CUDA context.
//
// The f32 KV cache and the activation figures are what text/kv_cache.cpp and the decoder allocate
// today (checked against measured memory in tests/catalog/test_memory_model.cpp). f16 and q8_0 cache
// types are planned, not implemented: their figures are for planning only.
#include <cstdint>
#include <string>
#include <vector>

#include "format/dtype.h"
#include "model/model_config.h"

namespace gd {

class ModelFiles;

enum class KvCacheType { F32, F16, Q8_0 };
const char* kv_cache_type_name(KvCacheType t);  // "f32", "f16", "q8_0"
bool kv_cache_type_from_name(const std::string& name, KvCacheType& out);
// Only f32 is what the engine allocates; the others are planned cache types.
inline bool kv_cache_type_implemented(KvCacheType t) { return t == KvCacheType::F32; }

// Weight bytes of a model as the planner places them.
struct WeightLayout {
    std::vector<uint64_t> layer_bytes;  // decoder layer i: attention, MLP/MoE, norms, its PLE gate/projection
    uint64_t text_global = 0;           // token embedding (the tied LM head), final norm, PLE projection, rope table
    uint64_t ple_table = 0;             // per-layer-embedding table: stays in host memory on every backend
    uint64_t vision = 0;                // vision tower + embedder
    uint64_t audio = 0;                 // audio tower + embedder
    uint64_t layers_bytes(int64_t first, int64_t end) const;
    uint64_t text_device() const { return text_global + layers_bytes(0, static_cast<int64_t>(layer_bytes.size())); }
    uint64_t total() const { return text_device() + ple_table + vision + audio; }
};

// As the files store them.
WeightLayout weight_layout(const ModelFiles& files);
// As a GGUF file of `config` with matrices stored as `type` would hold them (gguf_storage_type
// decides each tensor, as make-test-model and `gemmadesk-cli quantize` do); `type` f32/f16/bf16 keeps
// 1-D tensors in f32 the same way.
WeightLayout weight_layout_for(const ModelConfig& config, DType type);

// Bytes of the KV cache of layers [first, end) (end -1 = all) for `context` positions, prefill chunks
// of at most `chunk` tokens, in `type`: KV-owning layers only; full layers hold `context` positions,
// sliding layers a ring of window + chunk - 1 when that is smaller (exactly text/kv_cache.cpp for f32).
uint64_t kv_bytes(const TextConfig& c, int64_t context, int64_t chunk, KvCacheType type, int64_t first = 0,
                  int64_t end = -1);

// Peak bytes of the decoder's f32 activations while it runs one chunk of `chunk` tokens, without the
// KV cache and the logits: the residual, the per-layer inputs, and the larger of the attention and
// feed-forward blocks' buffers (text/decoder.cpp, attention_block.cpp, ffn_block.cpp).
uint64_t text_activation_bytes(const TextConfig& c, int64_t chunk);
// f32 logits for `rows` positions (generation: 1; scoring: every position) plus the final-norm rows.
uint64_t logits_bytes(const TextConfig& c, int64_t rows);
// The vision tower's peak f32 buffers for an image of `soft_tokens` soft tokens (9 patches each;
// 1120 -> 10080 patches attended as a whole).
uint64_t vision_activation_bytes(const VisionConfig& v, int64_t text_hidden, int64_t soft_tokens);
// The audio tower's peak f32 buffers for one 30 s piece (the longest it encodes at once).
uint64_t audio_activation_bytes(const AudioConfig& a, int64_t text_hidden);

// Constants of the model (documented figures, not measured per machine).
inline constexpr uint64_t kCudaContextBytes = 500ull << 20;  // CUDA context, cuBLAS handle and workspace
inline constexpr uint64_t kRuntimeHostBytes = 256ull << 20;  // the program, tokenizer, allocator slack

// Where the parts of a model go and how large they are.
struct MemoryRequest {
    int64_t context = 8192;
    int64_t chunk = 512;                 // prefill chunk (prefill_chunk() of the session's batch)
    KvCacheType cache = KvCacheType::F32;
    int64_t gpu_layers = 0;              // decoder layers [0, gpu_layers) on the GPU; 0 = CPU only
    bool gpu = false;                    // a GPU holds something (gpu_layers > 0)
    int64_t image_tokens = 1120;         // the image budget the vision activations are sized for
    int64_t logit_rows = 1;              // positions whose logits are kept at once
};

struct MemoryPart {
    std::string name;   // "text weights", "KV cache", ...
    uint64_t gpu = 0;   // bytes on the GPU
    uint64_t host = 0;  // bytes in host memory
    std::string note;   // plain words: what it is, or "planned cache type"
};

struct MemoryEstimate {
    std::vector<MemoryPart> parts;
    uint64_t gpu_total() const;
    uint64_t host_total() const;
    // KV cache bytes of the whole model at this context for each cache type (the f16 and q8_0 ones
    // are planned cache types), for reports.
    uint64_t kv_f32 = 0, kv_f16 = 0, kv_q8_0 = 0;
};

// Parts: text weights (decoder layers and the embedding/head, split by gpu_layers: the embedding
// and head go to the GPU only when every layer does), per-layer-embedding table (host), vision and
// audio towers (on the GPU with a full offload, else host), KV cache (by layer), activations (the
// peak of the text chunk, the image and the audio piece: they run one after another; on both sides
// of a split), logits, CUDA context (when a GPU is used), runtime.
MemoryEstimate estimate_memory_parts(const ModelConfig& c, const WeightLayout& w, const MemoryRequest& r);

}  // namespace gd
