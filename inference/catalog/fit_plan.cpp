#include "catalog/fit_plan.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "model/model_files.h"
#include "model/variants.h"

namespace gd {

const char* plan_device_name(PlanDevice d) {
    switch (d) {
        case PlanDevice::Gpu: return "gpu";
        case PlanDevice::Split: return "split";
        case PlanDevice::Cpu: return "cpu";
    }
    return "?";
}

int variant_quality(const std::string& v) {
    if (v == "31b") return 4;
    if (v == "26b-a4b") return 3;
    if (v == "e4b") return 2;
    if (v == "e2b") return 1;
    return 0;
}

int precision_quality(DType t) {
    const DTypeInfo& i = dtype_info(t);
    const double bits = 8.0 * i.block_bytes / i.block_elems;
    if (bits >= 16) return 3;  // bf16/f16/f32: the published precision
    if (bits >= 6) return 2;   // q8_0, q6_k
    if (bits >= 4) return 1;   // q4_k, q5_*, q4_0, iq4_*
    return 0;
}

namespace {

std::string gib(uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

bool is_float_type(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// The type most matrix bytes are stored in.
DType main_weight_type(const ModelFiles& files) {
    std::map<DType, uint64_t> bytes;
    for (const ModelTensor& t : files.tensors())
        if (t.view.shape.size() >= 2) bytes[t.view.type] += t.view.nbytes;
    DType best = DType::F32;
    uint64_t most = 0;
    for (const auto& [type, n] : bytes)
        if (n > most) {
            most = n;
            best = type;
        }
    return best;
}

// One way to run a candidate: its weights in one type.
struct Option {
    const PlanCandidate* c;
    DType type;
    WeightLayout weights;
    bool load_time;
};

struct Machine {
    const GpuInfo* gpu = nullptr;
    uint64_t gpu_budget = 0;
    uint64_t ram_budget = 0;
    bool ram_known = true;
};

Machine usable(const MachineInfo& m) {
    Machine u;
    for (const GpuInfo& g : m.cuda_gpus) {
        const uint64_t free = g.free_bytes ? g.free_bytes : g.total_bytes;
        const uint64_t budget = static_cast<uint64_t>(kGpuUsableFraction * static_cast<double>(free));
        if (budget > u.gpu_budget) {
            u.gpu = &g;
            u.gpu_budget = budget;
        }
    }
    const uint64_t ram = m.ram_available ? m.ram_available : m.ram_total;
    u.ram_known = ram > 0;
    u.ram_budget = !u.ram_known ? UINT64_MAX : ram > kOsReserveBytes ? ram - kOsReserveBytes : 0;
    return u;
}

std::vector<int64_t> contexts_to_try(const ModelConfig& c, const PlanRequest& r) {
    const int64_t max = c.text.max_position_embeddings;
    if (r.context > 0) return {std::min(r.context, max)};
    std::vector<int64_t> out;
    for (int64_t t : {max, int64_t(131072), int64_t(32768), int64_t(8192), int64_t(4096)})
        if (t <= max && (out.empty() || out.back() != t)) out.push_back(t);
    std::sort(out.rbegin(), out.rend());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

MemoryEstimate estimate(const Option& o, const PlanRequest& r, int64_t context, int64_t gpu_layers) {
    MemoryRequest q;
    q.context = context;
    q.chunk = prefill_chunk(o.c->config, r.batch);
    q.cache = r.cache;
    q.gpu = gpu_layers > 0;
    q.gpu_layers = gpu_layers;
    q.image_tokens = r.image_tokens;
    return estimate_memory_parts(o.c->config, o.weights, q);
}

FitPlan base_plan(const Option& o, const PlanRequest& r, const Machine& m) {
    FitPlan p;
    p.model = o.c->name;
    p.paths = o.c->paths;
    p.variant = variant_name(o.c->config.variant);
    p.recommendation = !o.c->on_disk;
    p.stored_type = o.c->weight_type;
    p.weight_type = o.type;
    p.load_time_quantization = o.load_time;
    p.num_layers = o.c->config.text.num_layers;
    p.cache = r.cache;
    p.gpu_budget = m.gpu_budget;
    p.ram_budget = m.ram_known ? m.ram_budget : 0;
    return p;
}

// The placement of `mode` at `context`, if it fits.
std::optional<FitPlan> try_mode(const Option& o, const PlanRequest& r, const Machine& m, PlanDevice mode, int64_t context) {
    const int64_t L = o.c->config.text.num_layers;
    FitPlan p = base_plan(o, r, m);
    p.device = mode;
    p.context = context;
    if (mode == PlanDevice::Cpu) {
        p.memory = estimate(o, r, context, 0);
        if (p.memory.host_total() > m.ram_budget) return std::nullopt;
    } else {
        if (!m.gpu) return std::nullopt;
        p.gpu_index = m.gpu->index;
        if (mode == PlanDevice::Gpu) {
            p.gpu_layers = L;
            p.memory = estimate(o, r, context, L);
        } else {
            // The most leading layers the GPU holds, at a split the engine can run (KV-sharing layers
            // with their donors: TextConfig::valid_split).
            const TextConfig& tc = o.c->config.text;
            int64_t lo = 0;
            for (int64_t n = L - 1; n > 0 && lo == 0; --n)
                if (tc.valid_split(n) && estimate(o, r, context, n).gpu_total() <= m.gpu_budget) lo = n;
            if (lo == 0) return std::nullopt;
            p.gpu_layers = lo;
            p.memory = estimate(o, r, context, lo);
        }
        if (p.memory.gpu_total() > m.gpu_budget || p.memory.host_total() > m.ram_budget) return std::nullopt;
    }
    p.fits = true;
    return p;
}

std::string describe_fit(const FitPlan& p, const MachineInfo& mi, const Machine& m, int64_t first_context_tried) {
    std::string s = p.variant + " " + dtype_name(p.weight_type);
    if (p.load_time_quantization) s += std::string(" (quantized from ") + dtype_name(p.stored_type) + " at load time)";
    s += ": ";
    const std::string gpu = m.gpu ? "GPU " + std::to_string(m.gpu->index) + " (" + m.gpu->name + ")" : "";
    if (p.device == PlanDevice::Gpu)
        s += "all " + std::to_string(p.num_layers) + " layers on " + gpu + ", " + gib(p.memory.gpu_total()) + " of " +
             gib(m.gpu_budget) + " usable";
    else if (p.device == PlanDevice::Split)
        s += "layers 0-" + std::to_string(p.gpu_layers - 1) + " of " + std::to_string(p.num_layers) + " on " + gpu + " (" +
             gib(p.memory.gpu_total()) + " of " + gib(m.gpu_budget) + " usable), the rest on the CPU; the engine runs one "
             "device today, so until split execution lands it runs on the CPU";
    else
        s += std::string("on the CPU") + (mi.cuda_gpus.empty() ? " (no CUDA GPU)" : ", too large for the GPU");
    s += "; " + gib(p.memory.host_total()) + " in RAM of " + (m.ram_known ? gib(m.ram_budget) + " usable" : "an unknown amount");
    s += "; context " + std::to_string(p.context);
    if (p.context < first_context_tried) s += " (" + std::to_string(first_context_tried) + " does not fit)";
    if (!kv_cache_type_implemented(p.cache)) s += std::string("; ") + kv_cache_type_name(p.cache) + " cache is planned, not implemented";
    return s;
}

FitPlan plan_option(const Option& o, const PlanRequest& r, const MachineInfo& mi, const Machine& m) {
    const std::vector<int64_t> contexts = contexts_to_try(o.c->config, r);
    const int64_t enough = r.context > 0 ? contexts.front() : std::min<int64_t>(8192, o.c->config.text.max_position_embeddings);
    std::optional<FitPlan> fallback;
    for (PlanDevice mode : {PlanDevice::Gpu, PlanDevice::Split, PlanDevice::Cpu}) {
        for (int64_t ctx : contexts) {
            std::optional<FitPlan> p = try_mode(o, r, m, mode, ctx);
            if (!p) continue;
            p->why = describe_fit(*p, mi, m, contexts.front());
            if (ctx >= enough) return *p;
            if (!fallback) fallback = p;
            break;  // smaller contexts on this device only shrink it further
        }
    }
    if (fallback) return *fallback;
    // Does not fit: say what the smallest placements need.
    FitPlan p = base_plan(o, r, m);
    p.context = contexts.back();
    p.memory = estimate(o, r, p.context, 0);
    p.why = p.variant + " " + dtype_name(o.type) + " does not fit: at " + std::to_string(p.context) +
            " tokens the CPU needs " + gib(p.memory.host_total()) + " of RAM, " +
            (m.ram_known ? gib(m.ram_budget) + " usable" : "unknown");
    if (m.gpu) {
        const MemoryEstimate g = estimate(o, r, p.context, o.c->config.text.num_layers);
        p.why += "; all on the GPU needs " + gib(g.gpu_total()) + ", " + gib(m.gpu_budget) + " usable";
    }
    return p;
}

// A chat needs room: a plan under 8K tokens of context ranks after every plan with 8K or more (it is
// still offered when nothing else fits).
constexpr int64_t kUsableContext = 8192;

// Decoder weights a token reads from host memory: the CPU's share of the layers, of which the
// 26B-A4B MoE touches only the active experts (spec §7.1: ≈3.8 B of 25.2 B parameters per token).
double host_bytes_per_token(const FitPlan& p) {
    const double host = p.memory.parts.empty() ? 0.0 : static_cast<double>(p.memory.parts[0].host);
    return p.variant == "26b-a4b" ? host * 3.8 / 25.2 : host;
}
// Quality first, but not at any speed: with more than this read from RAM per token (about 2 tokens/s
// at a desktop's ~25 GB/s) a plan ranks after every faster one (a 31B bf16 with 2 of 60 layers on a
// 4 GiB GPU is not a chat). It is still offered when nothing faster fits.
constexpr double kSlowHostBytesPerToken = 12.0 * (1ull << 30);

bool better(const FitPlan& a, const FitPlan& b) {
    if (a.fits != b.fits) return a.fits;
    const bool ua = a.context >= kUsableContext, ub = b.context >= kUsableContext;
    if (ua != ub) return ua;
    const bool fa = host_bytes_per_token(a) <= kSlowHostBytesPerToken, fb = host_bytes_per_token(b) <= kSlowHostBytesPerToken;
    if (fa != fb) return fa;
    const int va = variant_quality(a.variant), vb = variant_quality(b.variant);
    if (va != vb) return va > vb;
    const int pa = precision_quality(a.weight_type), pb = precision_quality(b.weight_type);
    if (pa != pb) return pa > pb;
    if (a.device != b.device) return static_cast<int>(a.device) < static_cast<int>(b.device);
    if (a.load_time_quantization != b.load_time_quantization) return !a.load_time_quantization;
    if (a.recommendation != b.recommendation) return !a.recommendation;  // a model already on disk
    if (a.context != b.context) return a.context > b.context;
    if (a.gpu_layers != b.gpu_layers) return a.gpu_layers > b.gpu_layers;
    const uint64_t ta = a.memory.gpu_total() + a.memory.host_total(), tb = b.memory.gpu_total() + b.memory.host_total();
    if (ta != tb) return ta < tb;
    return a.model < b.model;
}

}  // namespace

PlanCandidate candidate_from_files(const ModelFiles& files, const std::vector<std::string>& paths) {
    PlanCandidate c;
    c.name = paths.empty() ? "model" : paths.front();
    c.paths = paths;
    c.config = files.config();
    c.weights = weight_layout(files);
    c.weight_type = main_weight_type(files);
    c.on_disk = true;
    return c;
}

std::vector<PlanCandidate> recommended_candidates() {
    std::vector<PlanCandidate> out;
    for (Variant v : published_variants())
        for (DType t : {DType::BF16, DType::Q8_0, DType::Q4_K}) {
            PlanCandidate c;
            c.config = preset_config(v, ModelSize::Full);
            c.name = std::string(variant_name(v)) + " " + dtype_name(t) + " (recommended)";
            c.weights = weight_layout_for(c.config, t);
            c.weight_type = t;
            out.push_back(std::move(c));
        }
    return out;
}

std::vector<FitPlan> plan_fit(const std::vector<PlanCandidate>& candidates, const MachineInfo& machine,
                              const PlanRequest& request) {
    const Machine m = usable(machine);
    std::vector<FitPlan> plans;
    for (const PlanCandidate& c : candidates) {
        const Option stored{&c, c.weight_type, c.weights, false};
        FitPlan p = plan_option(stored, request, machine, m);
        const bool fits = p.fits;
        plans.push_back(std::move(p));
        if (fits || !c.on_disk || !is_float_type(c.weight_type)) continue;
        // Too large as stored: the text weights quantized while loading; the towers stay as stored.
        ModelConfig text_only = c.config;
        text_only.vision.reset();
        text_only.audio.reset();
        for (DType t : {DType::Q8_0, DType::Q4_K}) {
            WeightLayout w = weight_layout_for(text_only, t);
            w.vision = c.weights.vision;
            w.audio = c.weights.audio;
            plans.push_back(plan_option(Option{&c, t, std::move(w), true}, request, machine, m));
        }
    }
    std::stable_sort(plans.begin(), plans.end(), better);
    return plans;
}

nlohmann::json plan_to_json(const FitPlan& p) {
    using json = nlohmann::json;
    json parts = json::array();
    for (const MemoryPart& part : p.memory.parts)
        parts.push_back({{"part", part.name}, {"gpu_bytes", part.gpu}, {"host_bytes", part.host}, {"note", part.note}});
    return {
        {"model", p.model},
        {"paths", p.paths},
        {"variant", p.variant},
        {"recommendation", p.recommendation},
        {"stored_type", dtype_name(p.stored_type)},
        {"weight_type", dtype_name(p.weight_type)},
        {"load_time_quantization", p.load_time_quantization},
        {"fits", p.fits},
        {"device", plan_device_name(p.device)},
        {"gpu_index", p.gpu_index},
        {"context", p.context},
        {"gpu_layers", p.gpu_layers},
        {"num_layers", p.num_layers},
        {"cache_type", kv_cache_type_name(p.cache)},
        {"cache_type_implemented", kv_cache_type_implemented(p.cache)},
        {"gpu_bytes", p.memory.gpu_total()},
        {"host_bytes", p.memory.host_total()},
        {"gpu_budget_bytes", p.gpu_budget},
        {"ram_budget_bytes", p.ram_budget},
        {"kv_cache_bytes", {{"f32", p.memory.kv_f32}, {"f16_planned", p.memory.kv_f16}, {"q8_0_planned", p.memory.kv_q8_0}}},
        {"memory", parts},
        {"why", p.why},
    };
}

nlohmann::json machine_to_json(const MachineInfo& m) {
    using json = nlohmann::json;
    json cuda = json::array();
    for (const GpuInfo& g : m.cuda_gpus)
        cuda.push_back({{"index", g.index}, {"name", g.name}, {"compute_capability", std::to_string(g.compute_major) + "." + std::to_string(g.compute_minor)},
                        {"total_bytes", g.total_bytes}, {"free_bytes", g.free_bytes}});
    json vulkan = json::array();
    for (const VulkanGpu& g : m.vulkan_gpus) {
        json heaps = json::array();
        for (const VulkanHeap& h : g.heaps) {
            json jh = {{"size_bytes", h.size}, {"device_local", h.device_local}};
            if (g.has_memory_budget) {
                jh["budget_bytes"] = h.budget;
                jh["usage_bytes"] = h.usage;
            }
            heaps.push_back(jh);
        }
        vulkan.push_back({{"name", g.name}, {"type", g.type}, {"vendor_id", g.vendor_id},
                          {"memory_budget_extension", g.has_memory_budget}, {"heaps", heaps}});
    }
    return {{"ram_total_bytes", m.ram_total}, {"ram_available_bytes", m.ram_available}, {"cores", m.cores},
            {"synthetic", m.synthetic}, {"cuda_gpus", cuda}, {"cuda_note", m.cuda_note},
            {"vulkan_gpus", vulkan}, {"vulkan_note", m.vulkan_note}};
}

}  // namespace gd
