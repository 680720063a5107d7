#pragma once
// Opens the model files a user has — a Hugging Face folder (single or sharded safetensors) or a GGUF
// file plus its mmproj — and describes them as one model: the config, every tensor under its internal
// name, checked against the shapes the config implies. A missing or mis-shaped tensor is a ModelError
// naming the file, the tensor, and the expected and found shapes.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/hf_folder.h"
#include "model/model_config.h"
#include "model/tensor_names.h"

namespace gd {

enum class ModelFormat { Gguf, Safetensors };

struct ModelFileInfo {
    std::string path;
    uint64_t bytes = 0;
    std::string role;  // "text model", "mmproj", "weights", "weights shard", "config", "tokenizer", ...
};

struct ModelTensor {
    ExpectedTensor spec;   // what the config says: internal name, HF name, canonical shape, part
    TensorView view;       // what the file holds (name as stored, type, stored shape, bytes)
    std::string file;      // the file it lives in
};

class ModelFiles {
public:
    // `paths`: one HF folder (or a .safetensors file / index .json inside one), or a GGUF text model
    // optionally followed by its mmproj .gguf (found next to the model when not given, unless
    // `find_mmproj` is false).
    static ModelFiles open(const std::vector<std::string>& paths, bool find_mmproj = true);

    ModelFormat format() const { return format_; }
    const ModelConfig& config() const { return config_; }
    bool is_tiny_test_model() const { return config_.tiny_test_preset; }
    const std::vector<ModelFileInfo>& files() const { return files_; }
    const std::vector<ModelTensor>& tensors() const { return tensors_; }
    // Tensors in the files that the model does not use (named as stored), and why.
    const std::vector<std::pair<std::string, std::string>>& unused_tensors() const { return unused_; }
    // Plain-language notes for the user (e.g. "no mmproj file found: image input is unavailable").
    const std::vector<std::string>& notes() const { return notes_; }
    // False when some tensor is stored in a type without a decoder yet (IQ2/IQ3/IQ1, TQ, MXFP4): such
    // files can be inspected, and the engine refuses to load them with that reason.
    bool computable() const;

    const ModelTensor* find(const std::string& internal_name) const;
    // Points a tensor at other bytes of the same shape (load-time quantization re-encodes a matrix in
    // memory); the caller keeps `data` alive as long as these files are used.
    void replace_view(const std::string& internal_name, DType type, const uint8_t* data, uint64_t nbytes);
    const ModelTensor& get(const std::string& internal_name) const;  // ModelError when absent

    // Only for HF folders: the JSON files beside the weights.
    const HfFolder* hf_folder() const { return hf_.get(); }
    // Only for GGUF: the text model (its first part when split) and the mmproj file (nullptr when none).
    const GgufFile* gguf_text() const { return gguf_parts_.empty() ? nullptr : gguf_parts_[0].get(); }
    const std::vector<std::shared_ptr<const GgufFile>>& gguf_text_parts() const { return gguf_parts_; }
    const GgufFile* gguf_mmproj() const { return gguf_mmproj_.get(); }

private:
    void bind_tensors(const std::vector<TensorView>& text_views, const std::string& text_file,
                      const std::vector<TensorView>& mmproj_views, const std::string& mmproj_file,
                      const std::map<std::string, std::string>& file_of);

    ModelFormat format_ = ModelFormat::Gguf;
    ModelConfig config_;
    std::vector<ModelFileInfo> files_;
    std::vector<ModelTensor> tensors_;
    std::map<std::string, size_t, std::less<>> index_;
    std::vector<std::pair<std::string, std::string>> unused_;
    std::vector<std::string> notes_;
    std::string hf_text_prefix_ = "model.language_model.";
    std::shared_ptr<const HfFolder> hf_;
    std::vector<std::shared_ptr<const GgufFile>> gguf_parts_;
    std::shared_ptr<const GgufFile> gguf_mmproj_;
};

// Finds the mmproj file for a GGUF text model: *.gguf files in the same folder whose name contains
// "mmproj" and whose general.architecture is "clip" with a projection_dim equal to `text_hidden`.
// Returns "" when there is none.
std::string find_mmproj_next_to(const std::string& text_model_path, int64_t text_hidden);

// A GGUF file is recognised by its magic bytes, not its name (Ollama stores them as sha256-... blobs).
bool looks_like_gguf(const std::string& path);

// The parts of a model split by llama.cpp's gguf-split (PREFIX-00001-of-0000N.gguf, with split.no /
// split.count metadata), in order; just `given` for an unsplit file. Missing or inconsistent parts
// are ModelErrors naming the file.
std::vector<std::shared_ptr<const GgufFile>> open_gguf_split_parts(const std::string& path,
                                                                    std::shared_ptr<const GgufFile> given);

// Elements equal after dropping size-1 dimensions ([1024,1,5] ~ [1024,5], [] ~ [1]).
bool same_shape_ignoring_ones(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

}  // namespace gd
