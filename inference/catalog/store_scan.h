#pragma once
// Finding candidate models in folders, without opening them: the Hugging Face cache layout, Ollama's
// manifests and blobs, and plain folders of GGUF files and Hugging Face model folders. Every walk is
// bounded and never throws.
#include <cstdint>
#include <string>
#include <vector>

namespace gd {

struct Candidate {
    std::string name;
    std::string source;
    std::vector<std::string> load_paths;
    std::string error;       // known before opening (an unreadable Ollama manifest, a missing blob)
    std::string mmproj_dir;  // another folder to look for the mmproj in when none sits next to the model
};

struct ScanLimits {
    int max_depth = 4;
    uint64_t max_entries = 100000;
};

// models--ORG--NAME/snapshots/<rev>: the revision refs/main names, else the newest snapshot.
std::vector<Candidate> scan_hf_cache(const std::string& hub_dir, const ScanLimits& limits);
// manifests/<registry>/<namespace>/<model>/<tag> -> blobs/sha256-<hex>.
std::vector<Candidate> scan_ollama_store(const std::string& models_dir, const ScanLimits& limits);
// Hugging Face model folders and GGUF models (not mmproj files, not later parts of a split model)
// under `root`; `root` may itself be a model file.
std::vector<Candidate> scan_folder(const std::string& root, const std::string& source, const ScanLimits& limits);

// "gemma-4-E4B-it-Q4_K_M.gguf" -> "gemma-4-E4B-it (Q4_K_M)"; a split part names the whole model.
std::string gguf_display_name(const std::string& file_name);
bool is_mmproj_name(const std::string& file_name);
// PREFIX-0000N-of-0000M.gguf with N > 1.
bool is_later_split_part(const std::string& file_name);

}  // namespace gd
