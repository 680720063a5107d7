#include "catalog/store_scan.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "format/hf_folder.h"

namespace gd {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool is_gguf_name(const std::string& name) { return lower(name).ends_with(".gguf"); }

bool is_dir(const fs::path& p) {
    std::error_code ec;
    return fs::is_directory(p, ec);  // follows symlinks; a loop or a dangling link is "no"
}

bool is_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

// The entries of one folder, sorted (results do not depend on the file system's order). Unreadable
// folders give nothing; `budget` counts every entry looked at, across the whole scan.
std::vector<fs::path> list_dir(const fs::path& dir, uint64_t& budget) {
    std::vector<fs::path> out;
    std::error_code ec;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        if (budget == 0) break;
        --budget;
        out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Folders that never hold models and can be huge.
bool skipped_folder(const std::string& name) {
    return name.empty() || name[0] == '.' || name == "node_modules" || name == "__pycache__";
}

// Depth-first walk following symlinks, each real folder at most once (symlink loops end there).
// `on_dir` sees each folder before its entries and returns whether to descend into its subfolders;
// `on_file` sees regular files.
class Walk {
public:
    Walk(const ScanLimits& limits, std::function<bool(const fs::path&)> on_dir, std::function<void(const fs::path&)> on_file)
        : max_depth_(limits.max_depth), budget_(limits.max_entries), on_dir_(std::move(on_dir)), on_file_(std::move(on_file)) {}

    void run(const fs::path& dir, int depth = 0) {
        std::error_code ec;
        const fs::path real = fs::canonical(dir, ec);
        if (ec || !visited_.insert(real.string()).second) return;
        const bool descend = on_dir_(dir) && depth < max_depth_;
        // A folder's own files first: the model at the top of a folder is the one a link below names.
        std::vector<fs::path> subdirs;
        for (const fs::path& p : list_dir(dir, budget_)) {
            if (is_file(p)) on_file_(p);
            else if (descend && is_dir(p) && !skipped_folder(p.filename().string())) subdirs.push_back(p);
        }
        for (const fs::path& p : subdirs) run(p, depth + 1);
    }

private:
    int max_depth_;
    uint64_t budget_;
    std::function<bool(const fs::path&)> on_dir_;
    std::function<void(const fs::path&)> on_file_;
    std::set<std::string> visited_;
};

// GGUF model files (not projectors, not later split parts) under `dir`, and HF folders when `hf_too`.
void collect(const fs::path& dir, const std::string& source, const ScanLimits& limits, bool hf_too,
             const std::string& mmproj_dir, std::vector<Candidate>& out) {
    Walk walk(
        limits,
        [&](const fs::path& d) {
            if (!hf_too || !HfFolder::looks_like_hf_folder(d.string())) return true;
            out.push_back({d.filename().string(), source, {d.string()}, "", ""});
            return false;  // a model folder's subfolders (e.g. "original/") are part of it
        },
        [&](const fs::path& f) {
            const std::string name = f.filename().string();
            if (!is_gguf_name(name) || is_mmproj_name(name) || is_later_split_part(name)) return;
            out.push_back({gguf_display_name(name), source, {f.string()}, "", mmproj_dir});
        });
    walk.run(dir);
}

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

// A revision or tag read from a file must name a child folder, not a path.
bool safe_component(const std::string& s) {
    return !s.empty() && s != "." && s != ".." && s.size() < 256 && s.find('/') == std::string::npos &&
           s.find('\0') == std::string::npos;
}

fs::path pick_snapshot(const fs::path& repo, uint64_t& budget) {
    const fs::path snapshots = repo / "snapshots";
    std::ifstream ref(repo / "refs" / "main");
    std::string rev;
    if (ref && std::getline(ref, rev) && safe_component(trim(rev)) && is_dir(snapshots / trim(rev)))
        return snapshots / trim(rev);
    fs::path newest;
    fs::file_time_type newest_time{};
    for (const fs::path& s : list_dir(snapshots, budget)) {
        std::error_code ec;
        const auto t = fs::last_write_time(s, ec);
        if (ec || !is_dir(s)) continue;
        if (newest.empty() || t > newest_time) {
            newest = s;
            newest_time = t;
        }
    }
    return newest;
}

// "sha256:<64 hex>" -> "sha256-<hex>", the blob's file name; "" for anything else (never a path).
std::string blob_name(const std::string& digest) {
    static const std::regex re("sha256:([0-9a-f]{64})");
    std::smatch m;
    return std::regex_match(digest, m, re) ? "sha256-" + m[1].str() : "";
}

std::string ollama_name(const std::string& registry, const std::string& ns, const std::string& model, const std::string& tag) {
    // As `ollama list` shows them: library models bare, others with their namespace (and host).
    std::string n = model + ":" + tag;
    if (registry == "registry.ollama.ai") return ns == "library" ? n : ns + "/" + n;
    return registry + "/" + ns + "/" + n;
}

Candidate read_ollama_manifest(const fs::path& manifest, const fs::path& blobs, std::string name) {
    Candidate c{std::move(name), "ollama", {}, "", ""};
    nlohmann::json j;
    try {
        j = read_json_file(manifest.string(), 1ull << 20);
    } catch (const std::exception& e) {
        c.error = "its Ollama manifest cannot be read (" + std::string(e.what()) + ")";
        return c;
    }
    const auto layers = j.find("layers");
    if (layers == j.end() || !layers->is_array()) {
        c.error = "its Ollama manifest lists no layers (" + manifest.string() + ")";
        return c;
    }
    std::string model, projector;
    bool tensor_layers = false;
    for (const auto& l : *layers) {
        if (!l.is_object()) continue;
        const auto type = l.find("mediaType");
        const auto digest = l.find("digest");
        if (type == l.end() || !type->is_string() || digest == l.end() || !digest->is_string()) continue;
        const std::string t = type->get<std::string>();
        const std::string blob = blob_name(digest->get<std::string>());
        if (t == "application/vnd.ollama.image.model" && model.empty()) model = blob.empty() ? "?" : blob;
        else if (t == "application/vnd.ollama.image.projector" && projector.empty()) projector = blob.empty() ? "?" : blob;
        else if (t.rfind("application/vnd.ollama.image.tensor", 0) == 0) tensor_layers = true;
    }
    if (model.empty()) {
        c.error = tensor_layers ? "stored in Ollama's tensor-layer format, which Gemma Desk cannot read; use a GGUF download"
                                : "its Ollama manifest has no model layer";
        return c;
    }
    for (const std::string* b : {&model, &projector}) {
        if (b->empty()) continue;
        if (*b == "?") {
            c.error = "its Ollama manifest has a malformed digest (" + manifest.string() + ")";
            return c;
        }
        const fs::path p = blobs / *b;
        if (!is_file(p)) {
            c.error = "a file is missing from Ollama's store (" + p.string() + "); pull the model again";
            return c;
        }
        c.load_paths.push_back(p.string());
    }
    return c;
}

}  // namespace

bool is_mmproj_name(const std::string& file_name) { return lower(file_name).find("mmproj") != std::string::npos; }

bool is_later_split_part(const std::string& file_name) {
    static const std::regex re(R"(.*-(\d{5})-of-(\d{5})\.gguf)", std::regex::icase);
    std::smatch m;
    return std::regex_match(file_name, m, re) && std::stoi(m[1].str()) > 1;
}

std::string gguf_display_name(const std::string& file_name) {
    std::string stem = file_name;
    if (is_gguf_name(stem)) stem.resize(stem.size() - 5);
    static const std::regex split(R"((.*)-\d{5}-of-\d{5})", std::regex::icase);
    std::smatch m;
    if (std::regex_match(stem, m, split)) stem = m[1].str();
    // The quantization label llama.cpp's tools and the GGUF publishers append: Q4_K_M, IQ4_XS, UD-Q4_K_XL, BF16, ...
    static const std::regex quant(R"((.+?)[-_.]((?:UD-)?(?:I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)))", std::regex::icase);
    if (std::regex_match(stem, m, quant)) {
        std::string label = m[2].str();
        std::transform(label.begin(), label.end(), label.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        return m[1].str() + " (" + label + ")";
    }
    return stem;
}

std::vector<Candidate> scan_hf_cache(const std::string& hub_dir, const ScanLimits& limits) {
    std::vector<Candidate> out;
    if (hub_dir.empty() || !is_dir(hub_dir)) return out;
    uint64_t budget = limits.max_entries;
    for (const fs::path& repo : list_dir(hub_dir, budget)) {
        const std::string dir_name = repo.filename().string();
        if (dir_name.rfind("models--", 0) != 0 || !is_dir(repo)) continue;
        // models--google--gemma-4-E4B-it -> google/gemma-4-E4B-it
        std::string repo_id = dir_name.substr(8);
        for (size_t p; (p = repo_id.find("--")) != std::string::npos;) repo_id.replace(p, 2, "/");
        const fs::path snap = pick_snapshot(repo, budget);
        if (snap.empty()) continue;
        std::vector<Candidate> ggufs;
        collect(snap, "huggingface", {3, std::min<uint64_t>(budget, 10000)}, false, snap.string(), ggufs);
        // A folder with config.json is a safetensors model (perhaps half downloaded: opening says so),
        // unless the repository is a collection of GGUF files with a config beside them.
        if (HfFolder::looks_like_hf_folder(snap.string()) || (is_file(snap / "config.json") && ggufs.empty()))
            out.push_back({repo_id, "huggingface", {snap.string()}, "", ""});
        for (Candidate& c : ggufs) out.push_back(std::move(c));
    }
    return out;
}

std::vector<Candidate> scan_ollama_store(const std::string& models_dir, const ScanLimits& limits) {
    std::vector<Candidate> out;
    const fs::path root(models_dir);
    if (models_dir.empty() || !is_dir(root / "manifests")) return out;
    uint64_t budget = limits.max_entries;
    // Exactly four levels: registry / namespace / model / tag (the tag is the manifest file).
    for (const fs::path& reg : list_dir(root / "manifests", budget)) {
        if (!is_dir(reg)) continue;
        for (const fs::path& ns : list_dir(reg, budget)) {
            if (!is_dir(ns)) continue;
            for (const fs::path& model : list_dir(ns, budget)) {
                if (!is_dir(model)) continue;
                for (const fs::path& tag : list_dir(model, budget)) {
                    if (!is_file(tag)) continue;
                    out.push_back(read_ollama_manifest(tag, root / "blobs",
                                                       ollama_name(reg.filename().string(), ns.filename().string(),
                                                                   model.filename().string(), tag.filename().string())));
                }
            }
        }
    }
    return out;
}

std::vector<Candidate> scan_folder(const std::string& root, const std::string& source, const ScanLimits& limits) {
    std::vector<Candidate> out;
    if (root.empty()) return out;
    const fs::path p(root);
    if (is_file(p)) {
        // A model file the user picked: taken as given, whatever its name.
        const std::string name = p.filename().string();
        out.push_back({is_gguf_name(name) ? gguf_display_name(name) : name, source, {p.string()}, "", ""});
        return out;
    }
    if (is_dir(p)) collect(p, source, limits, true, "", out);
    return out;
}

}  // namespace gd
