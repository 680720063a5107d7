#pragma once
// Every tensor a Gemma 4 model has, with its shape, for a given config: the one internal naming
// (llama.cpp's GGUF names), the Hugging Face name, and where the two formats store a tensor
// differently. This is the single place that knows both naming schemes (spec §6.2–§6.4).
#include <cstdint>
#include <string>
#include <vector>

#include "model/model_config.h"

namespace gd {

// What a tensor belongs to, for parameter counts and memory reports (spec §7.1 rows).
enum class Part {
    TokenEmbedding,   // embed_tokens (tied LM head)
    PleTable,         // embed_tokens_per_layer: large, read one row per token, may stay in host memory
    PleOther,         // per-layer-embedding projections, gates and norms
    Attention,        // q/k/v/o projections and q/k norms
    Mlp,              // dense MLP (also the dense branch of MoE layers)
    Moe,              // experts and routers
    TextNorms,        // layer norms, final norm, layer scalars
    VisionTower,
    VisionEmbedder,
    AudioTower,
    AudioEmbedder,
    Count
};
const char* part_name(Part p);
bool part_is_text(Part p);
bool part_is_vision(Part p);
bool part_is_audio(Part p);

// How a GGUF file stores a tensor differently from the Hugging Face checkpoint.
enum class GgufLayout {
    Same,            // same elements in the same order (shapes may differ by size-1 dimensions)
    ConvPatch,       // vision patch embedding as a conv kernel [Hv, 3, 16, 16] instead of [Hv, 768] (py, px, c)
    SoftplusApplied, // audio per_dim_scale: GGUF stores softplus(x), HF stores x
};

struct ExpectedTensor {
    std::string name;             // internal = GGUF name, e.g. "blk.3.attn_q.weight"
    std::string hf_name;          // full HF state_dict name, e.g. "model.language_model.layers.3.self_attn.q_proj.weight"
    std::vector<uint64_t> shape;  // PyTorch order (outermost first), as the HF checkpoint stores it
    std::vector<uint64_t> gguf_shape;  // PyTorch order of the GGUF tensor when it differs (ConvPatch), else empty
    Part part = Part::Attention;
    GgufLayout gguf_layout = GgufLayout::Same;
    bool in_mmproj = false;       // GGUF: lives in the mmproj file (vision, audio), not the text file
    bool gguf_only = false;       // exists only in GGUF (rope_freqs)
    bool optional = false;        // may be absent without error
    bool buffer = false;          // a non-trained buffer in transformers (layer scalars, clip bounds,
                                  // standardisation), counted apart from parameters as transformers does
    int64_t layer = -1;           // decoder / encoder layer index, -1 for global tensors
};

// All tensors of a model with this config, text first, then vision, then audio.
std::vector<ExpectedTensor> expected_tensors(const ModelConfig& c);

// Tensors that may be present in files but are not used (shared layers' K/V, an untied output head
// equal to the embedding), by HF or GGUF name: loaders ignore these without error.
bool is_ignorable_tensor(const std::string& name, const ModelConfig& c);

// Parameter counts per part from the config alone.
struct ParamCounts {
    uint64_t by_part[static_cast<int>(Part::Count)] = {};
    uint64_t buffers = 0;  // elements of buffer tensors, not included in the parts
    uint64_t text() const;
    uint64_t vision() const;
    uint64_t audio() const;
    uint64_t total() const { return text() + vision() + audio(); }
    uint64_t operator[](Part p) const { return by_part[static_cast<int>(p)]; }
};
ParamCounts count_params(const ModelConfig& c);

}  // namespace gd
