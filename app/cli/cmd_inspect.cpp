// gemmadesk-cli inspect PATH... : what each model is, its parameters, tensor types, files and the
// memory each part needs as stored. Readable text by default, --json for machines.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "common/error.h"
#include "format_util.h"
#include "model/model_report.h"

namespace gd::cli {
namespace {

const char* kUsage =
    "usage: gemmadesk-cli inspect PATH... [--mmproj FILE] [--json]\n"
    "  PATH     a GGUF model file (its mmproj file is found next to it) or a Hugging Face model folder\n"
    "  --mmproj the vision/audio projector file of a GGUF model, when it is not next to the model\n"
    "  --json   print one JSON object per model (a JSON array when several paths are given)\n";

void print_text(const std::string& path, const ModelReport& r) {
    std::printf("%s\n", path.c_str());
    std::string variant = r.variant == "custom" ? "custom (structure of " + r.family + ")" : r.variant;
    if (r.tiny_test_model) variant += " (tiny test model)";
    std::printf("  format      %s\n  variant     %s\n  structure   %s\n", r.format.c_str(), variant.c_str(),
                r.description.c_str());
    std::printf("  modalities  text%s%s\n", r.has_vision ? ", image" : "", r.has_audio ? ", audio" : "");
    std::printf("  weights     %s\n", r.weight_type.c_str());
    std::printf("  parameters  %s total: text %s, vision %s, audio %s\n", human_count(r.params.total()).c_str(),
                human_count(r.params.text()).c_str(), human_count(r.params.vision()).c_str(),
                human_count(r.params.audio()).c_str());
    for (int p = 0; p < static_cast<int>(Part::Count); ++p)
        if (r.params.by_part[p])
            std::printf("    %-34s %12s  %12s\n", part_name(static_cast<Part>(p)), human_count(r.params.by_part[p]).c_str(),
                        human_bytes(r.part_bytes[p]).c_str());
    std::printf("  memory as stored\n");
    std::printf("    %-34s %12s\n", "text (without the PLE table)", human_bytes(r.text_bytes_excluding_ple_table()).c_str());
    if (r.ple_table_bytes())
        std::printf("    %-34s %12s  (read one row per token; may stay in host memory)\n", "per-layer embedding table",
                    human_bytes(r.ple_table_bytes()).c_str());
    if (r.has_vision) std::printf("    %-34s %12s\n", "vision tower + embedder", human_bytes(r.vision_bytes()).c_str());
    if (r.has_audio) std::printf("    %-34s %12s\n", "audio tower + embedder", human_bytes(r.audio_bytes()).c_str());
    std::printf("    %-34s %12s\n", "total", human_bytes(r.total_bytes()).c_str());
    std::printf("  tensor types\n");
    for (const auto& [name, u] : r.types)
        std::printf("    %-8s %6llu tensors %14s elements %12s\n", name.c_str(), static_cast<unsigned long long>(u.tensors),
                    human_count(u.elements).c_str(), human_bytes(u.bytes).c_str());
    std::printf("  files (%s)\n", human_bytes(r.file_bytes).c_str());
    for (const auto& f : r.files) std::printf("    %-12s %s  %s\n", human_bytes(f.bytes).c_str(), f.role.c_str(), f.path.c_str());
    if (!r.unused.empty()) {
        std::printf("  unused tensors (%zu)\n", r.unused.size());
        for (const auto& [name, why] : r.unused) std::printf("    %s: %s\n", name.c_str(), why.c_str());
    }
    for (const auto& n : r.notes) std::printf("  note: %s\n", n.c_str());
}

}  // namespace

int cmd_inspect(const Args& args) {
    ParsedArgs a = [&] {
        try {
            return ParsedArgs(args, {"mmproj"}, {"json", "help"});
        } catch (const UsageError& e) {
            std::fprintf(stderr, "inspect: %s\n%s", e.what(), kUsage);
            std::exit(2);
        }
    }();
    if (a.flag("help")) {
        std::printf("%s", kUsage);
        return 0;
    }
    if (a.positional().empty()) {
        std::fprintf(stderr, "inspect: give at least one model path\n%s", kUsage);
        return 2;
    }
    const auto mmproj = a.value("mmproj");
    if (mmproj && a.positional().size() != 1) {
        std::fprintf(stderr, "inspect: --mmproj goes with exactly one model path\n");
        return 2;
    }
    int status = 0;
    nlohmann::json all = nlohmann::json::array();
    for (const std::string& path : a.positional()) {
        try {
            std::vector<std::string> paths = {path};
            if (mmproj) paths.push_back(*mmproj);
            const ModelReport r = make_report(ModelFiles::open(paths));
            if (a.flag("json")) {
                nlohmann::json j = report_to_json(r);
                j["path"] = path;
                all.push_back(j);
            } else {
                print_text(path, r);
            }
        } catch (const std::exception& e) {  // gd::Error in plain words; anything else still names the path
            std::fprintf(stderr, "error: %s\n", e.what());
            if (a.flag("json")) all.push_back({{"path", path}, {"error", e.what()}});
            status = 1;
        }
    }
    if (a.flag("json")) std::printf("%s\n", (all.size() == 1 ? all[0] : all).dump(2).c_str());
    return status;
}

}  // namespace gd::cli
