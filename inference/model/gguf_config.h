#pragma once
// GGUF metadata (spec §6.3, §6.4) -> ModelConfig: the text file's gemma4.* keys and, when given, the
// mmproj file's clip.* keys. What GGUF does not state is derived from the tensors (K=V from the
// absence of attn_v on full layers, the RoPE fraction from rope_freqs, the vision tower kind from
// its clip scalars and standardisation tensors).
#include <memory>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "model/model_config.h"

namespace gd {

// `parts`: all parts of a split model (tensors are looked up in every part); empty = just `text`.
ModelConfig config_from_gguf(const GgufFile& text, const GgufFile* mmproj,
                             const std::vector<std::shared_ptr<const GgufFile>>& parts = {});

// Writes the metadata a GGUF text file / mmproj file carries for this config (used by make-test-model).
class GgufWriter;
void write_gguf_text_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name);
void write_gguf_mmproj_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name);

}  // namespace gd
