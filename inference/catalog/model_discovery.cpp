#include "catalog/model_discovery.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "catalog/model_locations.h"
#include "catalog/store_scan.h"
#include "common/error.h"
#include "format/hf_folder.h"
#include "model/model_files.h"
#include "model/model_report.h"

namespace gd {

namespace fs = std::filesystem;

namespace {

uint64_t size_of(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);  // follows symlinks (HF cache snapshots link to blobs)
    return ec ? 0 : n;
}

// What the candidate's paths hold on disk when the model could not be opened: the files, or the
// files directly in the folder.
uint64_t disk_bytes_of(const std::vector<std::string>& paths) {
    uint64_t n = 0;
    for (const std::string& p : paths) {
        std::error_code ec;
        if (!fs::is_directory(p, ec)) {
            n += size_of(p);
            continue;
        }
        for (fs::directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::directory_iterator(); it.increment(ec))
            if (it->is_regular_file(ec)) n += size_of(it->path());
    }
    return n;
}

enum class Failure { Error, Projector };

// Turns an exception from ModelFiles::open into a sentence for the model list, looking at the file
// again to say what it is when it is not a Gemma 4 model at all.
Failure explain_failure(const std::vector<std::string>& paths, const std::exception& e, std::string& error) {
    const std::string& first = paths.front();
    std::error_code ec;
    if (fs::is_regular_file(first, ec) && looks_like_gguf(first)) {
        std::string arch;
        try {
            arch = GgufFile::open(first).architecture();
        } catch (const std::exception& damaged) {
            error = "the file is damaged or incomplete: " + std::string(damaged.what());
            return Failure::Error;
        }
        if (arch == "clip") return Failure::Projector;  // an mmproj without "mmproj" in its name
        if (arch != "gemma4") {
            error = arch.empty() ? "not a Gemma 4 model (the file names no architecture)"
                                 : "not a Gemma 4 model (architecture " + arch + ")";
            return Failure::Error;
        }
    } else if (fs::is_regular_file(first, ec) && fs::path(first).extension() == ".gguf") {
        error = "not a GGUF file: it does not start with the GGUF signature (damaged or incomplete download?)";
        return Failure::Error;
    } else {
        const fs::path dir = fs::is_directory(first, ec) ? fs::path(first) : fs::path(first).parent_path();
        try {
            const nlohmann::json j = read_json_file((dir / "config.json").string(), kMaxJsonFileBytes);
            const auto type = j.find("model_type");
            if (type != j.end() && type->is_string() && *type != "gemma4" && *type != "gemma4_text") {
                error = "not a Gemma 4 model (model_type " + type->get<std::string>() + ")";
                return Failure::Error;
            }
        } catch (const std::exception&) {
            // No readable config.json: ModelFiles' own message says what is missing.
        }
    }
    error = e.what();  // gd::Error messages are plain words naming the file
    return Failure::Error;
}

// Why a model that opened still cannot run, or "".
std::string unusable_reason(const ModelFiles& m) {
    std::set<std::string> types;
    for (const ModelTensor& t : m.tensors())
        if (!dtype_info(t.view.type).dequantizable) types.insert(dtype_name(t.view.type));
    if (!types.empty()) {
        std::string list;
        for (const auto& t : types) list += (list.empty() ? "" : ", ") + t;
        return "uses " + list + " weights, a quantization Gemma Desk cannot run yet";
    }
    if (const HfFolder* hf = m.hf_folder(); hf && !hf->tokenizer && hf->tokenizer_model_path.empty())
        return "no tokenizer: the folder has neither tokenizer.json nor tokenizer.model";
    if (const GgufFile* g = m.gguf_text(); g && !g->find("tokenizer.ggml.tokens"))
        return "no tokenizer: the GGUF file has no tokenizer.ggml.tokens";
    return "";
}

void fill(DiscoveredModel& d, const ModelFiles& m, const MachineMemory& machine) {
    const ModelReport r = make_report(m);
    d.format = r.format;
    d.variant = r.variant;
    d.tiny_test_model = r.tiny_test_model;
    d.quantization = r.weight_type;
    d.has_vision = r.has_vision;
    d.has_audio = r.has_audio;
    d.disk_bytes = r.file_bytes;
    d.max_context = m.config().text.max_position_embeddings;
    const MemoryNeed need = estimate_memory(r, m.config());
    d.memory_bytes = need.total();
    d.host_resident_bytes = need.host_resident;
    d.error = unusable_reason(m);
    if (d.error.empty()) d.fit = estimate_fit(d.memory_bytes, machine, d.host_resident_bytes);
}

// Opens a candidate; for a GGUF model with no mmproj beside it, tries `mmproj_dir` too (an HF
// repository keeps split parts in subfolders and the mmproj at the top). Returns false for a file
// that turned out to be a projector, not a model.
bool describe(const Candidate& c, const MachineMemory& machine, DiscoveredModel& d) {
    d = {};
    d.name = c.name;
    d.source = c.source;
    d.load_paths = c.load_paths;
    d.error = c.error;
    if (!d.error.empty() || d.load_paths.empty()) {
        if (d.error.empty()) d.error = "no model file";
        d.disk_bytes = disk_bytes_of(d.load_paths);
        return true;
    }
    try {
        ModelFiles m = ModelFiles::open(d.load_paths);
        if (m.format() == ModelFormat::Gguf && !m.gguf_mmproj() && d.load_paths.size() == 1 && !c.mmproj_dir.empty() &&
            fs::path(d.load_paths[0]).parent_path() != fs::path(c.mmproj_dir)) {
            const std::string mm = find_mmproj_next_to((fs::path(c.mmproj_dir) / "model.gguf").string(), m.config().text.hidden_size);
            if (!mm.empty()) m = ModelFiles::open({d.load_paths[0], mm});
        }
        // Name the projector explicitly, so the paths load the same model whatever else is added beside it.
        if (m.gguf_mmproj() && d.load_paths.size() == 1) d.load_paths.push_back(m.gguf_mmproj()->path());
        fill(d, m, machine);
    } catch (const std::exception& e) {
        // gd::Error for anything in the files; std::exception for the rest (allocation, filesystem).
        if (explain_failure(d.load_paths, e, d.error) == Failure::Projector) return false;
        d.disk_bytes = disk_bytes_of(d.load_paths);
    }
    return true;
}

// The same model reached twice (a symlink, an overlapping folder) has the same real first path.
std::string identity(const Candidate& c) {
    if (c.load_paths.empty()) return "name:" + c.source + ":" + c.name;
    std::error_code ec;
    const fs::path real = fs::canonical(c.load_paths[0], ec);
    return ec ? fs::path(c.load_paths[0]).lexically_normal().string() : real.string();
}

}  // namespace

DiscoveredModel describe_model(const std::vector<std::string>& load_paths, const std::string& name, const std::string& source,
                               const MachineMemory& machine) {
    DiscoveredModel d;
    if (!describe({name, source, load_paths, "", ""}, machine, d))
        d.error = "a vision/audio projector (mmproj) file, not a model: give the text model file";
    return d;
}

std::vector<DiscoveredModel> discover_models(const DiscoveryOptions& o) {
    const ScanLimits limits{o.max_depth, o.max_entries};
    std::vector<Candidate> candidates;
    auto add = [&](std::vector<Candidate> found) {
        for (Candidate& c : found) candidates.push_back(std::move(c));
    };
    if (o.standard_locations) {
        add(scan_hf_cache(hf_hub_cache_dir(o), limits));
        for (const std::string& dir : ollama_store_dirs(o)) add(scan_ollama_store(dir, limits));
        for (const std::string& dir : lmstudio_model_dirs(o)) add(scan_folder(dir, "lmstudio", limits));
    }
    for (const std::string& dir : o.extra_folders) add(scan_folder(dir, "folder", limits));

    const MachineMemory machine = o.machine ? *o.machine : probe_machine_memory();
    std::vector<DiscoveredModel> out;
    std::set<std::string> seen;
    for (const Candidate& c : candidates) {
        if (!seen.insert(identity(c)).second) continue;
        DiscoveredModel d;
        if (describe(c, machine, d)) out.push_back(std::move(d));
    }
    return out;
}

nlohmann::json discovered_model_to_json(const DiscoveredModel& m) {
    return {
        {"name", m.name},
        {"source", m.source},
        {"load_paths", m.load_paths},
        {"format", m.format},
        {"variant", m.variant},
        {"tiny_test_model", m.tiny_test_model},
        {"quantization", m.quantization},
        {"has_text", m.has_text},
        {"has_vision", m.has_vision},
        {"has_audio", m.has_audio},
        {"disk_bytes", m.disk_bytes},
        {"memory_bytes", m.memory_bytes},
        {"host_resident_bytes", m.host_resident_bytes},
        {"max_context", m.max_context},
        {"error", m.error},
        {"fit", m.error.empty() ? nlohmann::json{{"verdict", verdict_name(m.fit.verdict)}, {"device", m.fit.device},
                                                 {"summary", m.fit.summary}}
                                : nlohmann::json(nullptr)},
    };
}

}  // namespace gd
