#pragma once
// Fake model stores for the catalog tests: tiny models laid out as the Hugging Face cache, Ollama and
// LM Studio keep them, and GGUF files that are not Gemma 4.
#include <string>
#include <utility>
#include <vector>

#include "format/gguf.h"
#include "model/model_config.h"
#include "testmodel/test_model.h"

namespace gd::test {

// A tiny model of `v` at `out` (a .gguf path, or a folder for safetensors); returns every file written.
std::vector<std::string> write_tiny_model(Variant v, TestModelFormat format, DType dtype, const std::string& out);

// A copy of a GGUF file with metadata keys added or replaced (tensors copied as stored).
void copy_gguf_with(const std::string& src, const std::string& dst,
                    const std::vector<std::pair<std::string, GgufValue>>& keys);

// A small valid GGUF file of another architecture (e.g. "llama").
void write_foreign_gguf(const std::string& path, const std::string& architecture);

// Puts `files` into an HF cache repository as huggingface_hub does: content in blobs/<name>,
// snapshots/<rev>/<file name> a relative symlink to it; refs/main names `rev` when `set_main`.
// Returns the snapshot folder.
std::string add_to_hf_cache(const std::string& hub, const std::string& repo_folder, const std::string& rev,
                            const std::vector<std::string>& files, bool set_main);

// Stores a GGUF (and its projector) in an Ollama store under manifests/<registry>/<ns>/<model>/<tag>.
// Returns the blob paths (model, then projector when given).
std::vector<std::string> add_to_ollama(const std::string& models_dir, const std::string& registry, const std::string& ns,
                                       const std::string& model, const std::string& tag, const std::string& gguf,
                                       const std::string& mmproj);

// Sum of the sizes of `files` (symlinks followed).
uint64_t total_size(const std::vector<std::string>& files);

}  // namespace gd::test
