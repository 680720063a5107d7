#pragma once
// The Gemma 4 models already on this machine: the Hugging Face cache, Ollama's and LM Studio's
// stores and folders the user added. Each candidate is opened with ModelFiles (headers and metadata
// only, through mmap) and described; whatever goes wrong with one candidate becomes its `error` in
// plain words, so discovery itself never throws. The walk is bounded (depth, entries, symlink loops).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "catalog/fit_estimate.h"

namespace gd {

struct DiscoveryOptions {
    std::string home;                        // "" = $HOME
    // Environment overrides (HF_HOME, HF_HUB_CACHE, OLLAMA_MODELS); a key absent here is read with
    // getenv unless `use_process_env` is false.
    std::map<std::string, std::string> env;
    bool use_process_env = true;
    std::vector<std::string> extra_folders;  // folders (or model files) the user added; scanned recursively
    bool standard_locations = true;          // the HF cache, Ollama, LM Studio under `home`
    // Stores outside the home folder (Ollama's system service); only with standard_locations.
    std::vector<std::string> system_ollama_stores = {"/usr/share/ollama/.ollama/models"};
    std::optional<MachineMemory> machine;    // nullopt = probe_machine_memory()
    int max_depth = 4;                       // folder levels below an extra folder
    uint64_t max_entries = 100000;           // directory entries looked at per scanned root
};

struct DiscoveredModel {
    std::string name;                     // "google/gemma-4-E4B-it", "gemma-4-E4B-it (Q4_K_M)", "gemma4:e4b"
    std::string source;                   // "huggingface", "ollama", "lmstudio", "folder"
    std::vector<std::string> load_paths;  // what LoadOptions::paths / ModelFiles::open take
    std::string format;                   // "GGUF", "safetensors" ("" when unreadable)
    std::string variant;                  // "e2b", "e4b", "26b-a4b", "31b", "custom" ("" when unreadable)
    bool tiny_test_model = false;
    std::string quantization;             // the type most matrix bytes are stored in: "bf16", "q4_k", ...
    bool has_text = true, has_vision = false, has_audio = false;
    uint64_t disk_bytes = 0;              // the model's files, symlinks followed
    uint64_t memory_bytes = 0;            // to run it: weights as stored + KV of the default context + overhead
    uint64_t host_resident_bytes = 0;     // of memory_bytes, what may stay in RAM beside a GPU (PLE table)
    int64_t max_context = 0;
    std::string error;                    // non-empty: listed but unusable, in plain words
    FitEstimate fit;                      // meaningful only when error is empty
    bool usable() const { return error.empty(); }
};

std::vector<DiscoveredModel> discover_models(const DiscoveryOptions& options);

// One model from its load paths (what discovery does per candidate); never throws.
DiscoveredModel describe_model(const std::vector<std::string>& load_paths, const std::string& name,
                               const std::string& source, const MachineMemory& machine);

// The fields above as a JSON object ("fit": {"verdict", "device", "summary"}).
nlohmann::json discovered_model_to_json(const DiscoveredModel& m);

}  // namespace gd
