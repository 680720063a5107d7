#include "catalog/model_locations.h"

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "format/hf_folder.h"

namespace gd {

namespace fs = std::filesystem;

std::string discovery_env(const DiscoveryOptions& o, const std::string& key) {
    if (const auto it = o.env.find(key); it != o.env.end()) return it->second;
    if (!o.use_process_env) return "";
    const char* v = std::getenv(key.c_str());
    return v ? v : "";
}

std::string discovery_home(const DiscoveryOptions& o) { return o.home.empty() ? discovery_env(o, "HOME") : o.home; }

std::string hf_hub_cache_dir(const DiscoveryOptions& o) {
    if (std::string v = discovery_env(o, "HF_HUB_CACHE"); !v.empty()) return v;
    if (std::string v = discovery_env(o, "HUGGINGFACE_HUB_CACHE"); !v.empty()) return v;  // the older name
    if (std::string v = discovery_env(o, "HF_HOME"); !v.empty()) return (fs::path(v) / "hub").string();
    if (std::string v = discovery_env(o, "XDG_CACHE_HOME"); !v.empty()) return (fs::path(v) / "huggingface" / "hub").string();
    const std::string home = discovery_home(o);
    return home.empty() ? "" : (fs::path(home) / ".cache" / "huggingface" / "hub").string();
}

std::vector<std::string> ollama_store_dirs(const DiscoveryOptions& o) {
    std::vector<std::string> dirs;
    if (std::string v = discovery_env(o, "OLLAMA_MODELS"); !v.empty()) dirs.push_back(v);
    else if (const std::string home = discovery_home(o); !home.empty())
        dirs.push_back((fs::path(home) / ".ollama" / "models").string());
    for (const auto& s : o.system_ollama_stores) dirs.push_back(s);
    return dirs;
}

std::vector<std::string> lmstudio_model_dirs(const DiscoveryOptions& o) {
    const std::string home = discovery_home(o);
    if (home.empty()) return {};
    const fs::path lms = fs::path(home) / ".lmstudio";
    std::vector<std::string> dirs = {(lms / "models").string()};
    // The folder a user moved the downloads to (LM Studio's "Models Directory" setting).
    std::error_code ec;
    if (fs::is_regular_file(lms / "settings.json", ec)) {
        try {
            const nlohmann::json j = read_json_file((lms / "settings.json").string(), 4ull << 20);
            const auto it = j.find("downloadsFolder");
            if (it != j.end() && it->is_string() && fs::path(it->get<std::string>()).is_absolute())
                dirs.push_back(it->get<std::string>());
        } catch (const std::exception&) {
            // An unreadable settings file only means no moved folder is known.
        }
    }
    dirs.push_back((fs::path(home) / ".cache" / "lm-studio" / "models").string());
    return dirs;
}

}  // namespace gd
