// gemmadesk-cli models: the Gemma 4 models already on this machine (Hugging Face cache, Ollama,
// LM Studio, folders given with --folder), what each is and whether it fits this machine's memory.
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "args.h"
#include "catalog/model_discovery.h"
#include "commands.h"
#include "format_util.h"

namespace gd::cli {
namespace {

const char* kUsage =
    "usage: gemmadesk-cli models [--folder DIR]... [--no-standard] [--json]\n"
    "  --folder DIR   also look in DIR and its subfolders (a model file is accepted too); repeatable\n"
    "  --no-standard  skip the standard places (Hugging Face cache, Ollama, LM Studio)\n"
    "  --json         print a JSON array, one object per model\n";

std::string modalities(const DiscoveredModel& m) {
    std::string s = "text";
    if (m.has_vision) s += "+image";
    if (m.has_audio) s += "+audio";
    return s;
}

void print_table(const std::vector<DiscoveredModel>& models) {
    if (models.empty()) {
        std::printf("no models found\n");
        return;
    }
    std::printf("%-40s %-12s %-8s %-8s %-16s %10s %10s  %s\n", "NAME", "SOURCE", "VARIANT", "WEIGHTS", "INPUT", "DISK",
                "MEMORY", "FITS");
    for (const DiscoveredModel& m : models) {
        std::string variant = m.variant.empty() ? "-" : m.variant;
        if (m.tiny_test_model) variant += "*";
        std::printf("%-40s %-12s %-8s %-8s %-16s %10s %10s  %s\n", m.name.c_str(), m.source.c_str(), variant.c_str(),
                    m.quantization.empty() ? "-" : m.quantization.c_str(), m.usable() || !m.format.empty() ? modalities(m).c_str() : "-",
                    human_bytes(m.disk_bytes).c_str(), m.memory_bytes ? human_bytes(m.memory_bytes).c_str() : "-",
                    m.usable() ? m.fit.summary.c_str() : ("unusable: " + m.error).c_str());
        std::printf("%-40s %s\n", "", m.load_paths.empty() ? "" : m.load_paths[0].c_str());
    }
    bool tiny = false;
    for (const auto& m : models) tiny |= m.tiny_test_model;
    if (tiny) std::printf("* a tiny random test model (make-test-model), not a real Gemma 4\n");
}

}  // namespace

int cmd_models(const Args& args) {
    // --folder may be given several times; the shared parser keeps one value per option, so the
    // folders are taken out first.
    DiscoveryOptions o;
    Args rest;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--folder") {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "models: option --folder needs a value\n%s", kUsage);
                return 2;
            }
            o.extra_folders.push_back(args[++i]);
        } else if (args[i].rfind("--folder=", 0) == 0) {
            o.extra_folders.push_back(args[i].substr(9));
        } else {
            rest.push_back(args[i]);
        }
    }
    ParsedArgs a = [&] {
        try {
            return ParsedArgs(rest, {}, {"no-standard", "json", "help"});
        } catch (const UsageError& e) {
            std::fprintf(stderr, "models: %s\n%s", e.what(), kUsage);
            std::exit(2);
        }
    }();
    if (a.flag("help")) {
        std::printf("%s", kUsage);
        return 0;
    }
    if (!a.positional().empty()) {
        std::fprintf(stderr, "models: unexpected argument '%s' (folders go after --folder)\n%s", a.positional()[0].c_str(), kUsage);
        return 2;
    }
    o.standard_locations = !a.flag("no-standard");
    const std::vector<DiscoveredModel> models = discover_models(o);
    if (a.flag("json")) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& m : models) all.push_back(discovered_model_to_json(m));
        std::printf("%s\n", all.dump(2).c_str());
    } else {
        print_table(models);
    }
    return 0;
}

}  // namespace gd::cli
