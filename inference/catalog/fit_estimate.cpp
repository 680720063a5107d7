#include "catalog/fit_estimate.h"

#include "catalog/memory_model.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace gd {

void parse_meminfo(const std::string& text, MachineMemory& m) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        // "MemTotal:       32768000 kB"
        unsigned long long kb = 0;
        char unit[8] = {};
        if (std::sscanf(line.c_str(), "MemTotal: %llu %7s", &kb, unit) == 2 && std::string(unit) == "kB")
            m.ram_total = kb * 1024;
        else if (std::sscanf(line.c_str(), "MemAvailable: %llu %7s", &kb, unit) == 2 && std::string(unit) == "kB")
            m.ram_available = kb * 1024;
    }
    // A kernel without MemAvailable (or a garbled line) must not make the machine look empty.
    if (m.ram_available > m.ram_total) m.ram_available = m.ram_total;
}

MachineMemory probe_machine_memory() {
    MachineMemory m;
    std::ifstream f("/proc/meminfo");
    if (f) {
        std::stringstream s;
        s << f.rdbuf();
        parse_meminfo(s.str(), m);
    }
    m.gpus = query_cuda_devices().gpus;
    return m;
}

uint64_t kv_cache_bytes(const TextConfig& c, int64_t context, int64_t max_chunk) {
    return kv_bytes(c, context, max_chunk, KvCacheType::F32);  // the one formula (memory_model.h)
}

MemoryNeed estimate_memory(const ModelReport& r, const ModelConfig& c, int64_t context) {
    MemoryNeed n;
    n.weights = r.total_bytes();
    n.host_resident = r.ple_table_bytes();
    n.kv_cache = kv_cache_bytes(c.text, std::min(context, c.text.max_position_embeddings), prefill_chunk(c, kDefaultBatch));
    n.overhead = kRuntimeOverheadBytes;
    return n;
}

const char* verdict_name(FitEstimate::Verdict v) {
    switch (v) {
        case FitEstimate::Verdict::Fits: return "fits";
        case FitEstimate::Verdict::Tight: return "tight";
        case FitEstimate::Verdict::TooLarge: return "too large";
    }
    return "?";
}

std::string format_gb(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
    return buf;
}

namespace {

using Verdict = FitEstimate::Verdict;

// Leaves 10% of what is free for fragmentation, the CUDA context and whatever else starts meanwhile.
bool within_free(uint64_t need, uint64_t free) { return static_cast<double>(need) <= 0.9 * static_cast<double>(free); }

std::string gpu_name(const GpuInfo& g) { return "GPU " + std::to_string(g.index) + " (" + g.name + ")"; }

FitEstimate on_gpu(uint64_t need, const GpuInfo& g) {
    const uint64_t free = g.free_bytes ? g.free_bytes : g.total_bytes;
    const std::string label = "GPU " + std::to_string(g.index);
    if (within_free(need, free))
        return {Verdict::Fits, gpu_name(g), "Fits in " + label + " memory (needs " + format_gb(need) + " of " + format_gb(free) + " free)"};
    if (need <= g.total_bytes)
        return {Verdict::Tight, gpu_name(g),
                "Tight: needs " + format_gb(need) + ", " + label + " has " + format_gb(free) + " free of " +
                    format_gb(g.total_bytes) + "; other programs are using the rest"};
    return {Verdict::TooLarge, gpu_name(g), ""};
}

FitEstimate on_cpu(uint64_t need, const MachineMemory& m) {
    if (m.ram_total == 0)
        return {Verdict::Tight, "CPU", "This machine's memory size could not be read (the model needs " + format_gb(need) + ")"};
    const uint64_t available = m.ram_available ? m.ram_available : m.ram_total;
    if (within_free(need, available))
        return {Verdict::Fits, "CPU", "Fits in memory (needs " + format_gb(need) + " of " + format_gb(available) + " available)"};
    if (need <= m.ram_total)
        return {Verdict::Tight, "CPU",
                "Tight: needs " + format_gb(need) + ", " + format_gb(available) + " of " + format_gb(m.ram_total) +
                    " are free now; close other programs first"};
    return {Verdict::TooLarge, "CPU", ""};
}

int rank(Verdict v) { return v == Verdict::Fits ? 0 : v == Verdict::Tight ? 1 : 2; }

}  // namespace

FitEstimate estimate_fit(uint64_t memory_bytes, const MachineMemory& m, uint64_t host_resident_bytes) {
    const uint64_t gpu_need = memory_bytes - std::min(host_resident_bytes, memory_bytes);
    // A GPU wins over the CPU at the same verdict (it is faster); among GPUs the one with more free memory.
    std::vector<GpuInfo> gpus = m.gpus;
    std::stable_sort(gpus.begin(), gpus.end(), [](const GpuInfo& a, const GpuInfo& b) { return a.free_bytes > b.free_bytes; });
    FitEstimate best = on_cpu(memory_bytes, m);
    for (const GpuInfo& g : gpus) {
        if (g.total_bytes == 0) continue;
        FitEstimate e = on_gpu(gpu_need, g);
        if (rank(e.verdict) <= rank(best.verdict) && e.verdict != Verdict::TooLarge) {
            best = e;
            break;  // sorted by free memory: the first acceptable GPU is the best one
        }
    }
    if (best.verdict == Verdict::TooLarge) {
        std::string has = "this machine has " + format_gb(m.ram_total);
        for (const GpuInfo& g : m.gpus) has += ", GPU " + std::to_string(g.index) + " has " + format_gb(g.total_bytes);
        best = {Verdict::TooLarge, "CPU", "Too large: needs " + format_gb(memory_bytes) + ", " + has};
    }
    return best;
}

}  // namespace gd
