// gemmadesk-cli plan: which model, weight type, context and GPU/CPU split fit this machine (or a
// machine described with --gpu-memory / --ram), with the memory each part needs.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>

#include "args.h"
#include "catalog/fit_plan.h"
#include "commands.h"
#include "format_util.h"
#include "model/model_files.h"

namespace gd::cli {
namespace {

const char* kUsage =
    "usage: gemmadesk-cli plan [--gpu-memory SIZE] [--ram SIZE] [--context N] [--cache-type f32|f16|q8_0]\n"
    "                          [--batch N] [--all] [--json] [MODEL...]\n"
    "  MODEL          model files to choose from (an HF folder or a GGUF file, its mmproj found beside it);\n"
    "                 none: the four Gemma 4 variants in bf16, q8_0 and q4_k, as recommendations\n"
    "  --gpu-memory   plan for a GPU with SIZE free (e.g. 8GiB; 0 = no GPU) instead of this machine's\n"
    "  --ram          plan for SIZE of available RAM (e.g. 16GiB) instead of this machine's\n"
    "  --context N    the context length to plan for (default: the largest of the model's maximum, 128K,\n"
    "                 32K, 8K, 4K that fits)\n"
    "  --cache-type   KV cache type: f32 (default, what the engine allocates); f16 and q8_0 are planned\n"
    "                 cache types, for planning only\n"
    "  --batch N      prefill chunk the session uses (default 512)\n"
    "  --all          list every plan, not only the best few\n"
    "  --json         {\"machine\", \"plans\":[...]}: every plan with its memory table, best first\n"
    "Preference: a bigger variant, then a higher precision, then every layer on the GPU over a split over\n"
    "the CPU, then the larger context. A split (the first gpu_layers layers on the GPU) is a plan: the\n"
    "engine runs a model on one device today.\n";

void print_machine(const MachineInfo& m) {
    std::printf("machine: %s RAM (%s available), %u cores%s\n", human_bytes(m.ram_total).c_str(),
                human_bytes(m.ram_available).c_str(), m.cores, m.synthetic ? " [given on the command line]" : "");
    if (m.cuda_gpus.empty()) std::printf("  CUDA: none (%s)\n", m.cuda_note.c_str());
    for (const GpuInfo& g : m.cuda_gpus)
        std::printf("  CUDA GPU %d: %s, %s free of %s, compute %d.%d\n", g.index, g.name.c_str(),
                    human_bytes(g.free_bytes).c_str(), human_bytes(g.total_bytes).c_str(), g.compute_major, g.compute_minor);
    if (m.vulkan_gpus.empty()) std::printf("  Vulkan: none (%s)\n", m.vulkan_note.c_str());
    for (const VulkanGpu& g : m.vulkan_gpus) {
        std::printf("  Vulkan: %s (%s), device-local %s", g.name.c_str(), g.type.c_str(), human_bytes(g.device_local_bytes()).c_str());
        if (g.has_memory_budget) std::printf(", budget %s", human_bytes(g.device_local_budget()).c_str());
        std::printf(" (not used by the engine: it runs on CUDA or the CPU)\n");
    }
}

void print_table(const FitPlan& p) {
    std::printf("  %-28s %12s %12s  %s\n", "PART", "GPU", "RAM", "NOTE");
    for (const MemoryPart& part : p.memory.parts)
        std::printf("  %-28s %12s %12s  %s\n", part.name.c_str(), part.gpu ? human_bytes(part.gpu).c_str() : "-",
                    part.host ? human_bytes(part.host).c_str() : "-", part.note.c_str());
    std::printf("  %-28s %12s %12s\n", "total", human_bytes(p.memory.gpu_total()).c_str(), human_bytes(p.memory.host_total()).c_str());
    std::printf("  KV cache at %lld tokens: f32 %s (what the engine allocates); planned cache types: f16 %s, q8_0 %s\n",
                static_cast<long long>(p.context), human_bytes(p.memory.kv_f32).c_str(), human_bytes(p.memory.kv_f16).c_str(),
                human_bytes(p.memory.kv_q8_0).c_str());
}

}  // namespace

int cmd_plan(const Args& args) {
    const ParsedArgs a(args, {"gpu-memory", "ram", "context", "cache-type", "batch"}, {"json", "all", "help"});
    if (a.flag("help")) {
        std::printf("%s", kUsage);
        return 0;
    }
    PlanRequest req;
    if (auto c = a.value("context")) {
        req.context = static_cast<int64_t>(parse_uint(*c, "--context"));
        if (req.context <= 0) throw UsageError("--context must be positive");
    }
    if (auto b = a.value("batch")) {
        req.batch = static_cast<int64_t>(parse_uint(*b, "--batch"));
        if (req.batch <= 0) throw UsageError("--batch must be positive");
    }
    if (auto t = a.value("cache-type"))
        if (!kv_cache_type_from_name(*t, req.cache)) throw UsageError("--cache-type is f32, f16 or q8_0, not '" + *t + "'");
    std::optional<uint64_t> ram, gpu;
    if (auto s = a.value("ram")) ram = parse_bytes(*s);
    if (auto s = a.value("gpu-memory")) gpu = parse_bytes(*s);
    // A given GPU size replaces this machine's GPUs: no need to wake the Vulkan drivers then.
    MachineInfo machine = probe_machine(/*with_vulkan=*/!gpu.has_value());
    if (ram || gpu) machine = synthetic_machine(ram, gpu, machine);

    std::vector<PlanCandidate> candidates;
    for (const std::string& path : a.positional()) {
        const ModelFiles files = ModelFiles::open({path});
        candidates.push_back(candidate_from_files(files, {path}));
    }
    const bool recommend = candidates.empty();
    if (recommend) candidates = recommended_candidates();
    const std::vector<FitPlan> plans = plan_fit(candidates, machine, req);

    if (a.flag("json")) {
        nlohmann::json j = {{"machine", machine_to_json(machine)}, {"recommendations", recommend}, {"plans", nlohmann::json::array()}};
        for (const FitPlan& p : plans) j["plans"].push_back(plan_to_json(p));
        std::printf("%s\n", j.dump(2).c_str());
        return plans.empty() || !plans.front().fits ? 1 : 0;
    }
    print_machine(machine);
    if (plans.empty() || !plans.front().fits) {
        std::printf("\nnothing fits:\n");
        for (const FitPlan& p : plans) std::printf("  %s\n", p.why.c_str());
        return 1;
    }
    const FitPlan& best = plans.front();
    std::printf("\nbest plan%s: %s\n  %s\n", recommend ? " (to download)" : "", best.model.c_str(), best.why.c_str());
    std::printf("  device %s, context %lld, gpu_layers %lld of %lld, weights %s%s\n", plan_device_name(best.device),
                static_cast<long long>(best.context), static_cast<long long>(best.gpu_layers),
                static_cast<long long>(best.num_layers), dtype_name(best.weight_type),
                best.load_time_quantization ? " (quantized at load time; gemmadesk-cli quantize saves it)" : "");
    print_table(best);
    const size_t shown = a.flag("all") ? plans.size() : std::min<size_t>(plans.size(), 6);
    if (shown > 1) std::printf("\nother plans, best first:\n");
    for (size_t i = 1; i < shown; ++i) std::printf("  %s %s\n", plans[i].fits ? "fits:" : "no:  ", plans[i].why.c_str());
    if (shown < plans.size()) std::printf("  ... %zu more (--all)\n", plans.size() - shown);
    return 0;
}

}  // namespace gd::cli
