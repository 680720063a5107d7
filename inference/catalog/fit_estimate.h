#pragma once
// Whether a model fits this machine: the memory it needs to run (weights as stored, the KV cache of
// the default context, a fixed overhead) against the RAM and GPU memory this machine has. A plain
// estimate for the model picker; it does not look at how the backends place weights.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/device_query.h"
#include "model/model_config.h"
#include "model/model_report.h"

namespace gd {

// The context the app opens sessions with (LoadOptions::context) and its prefill chunk (batch).
inline constexpr int64_t kDefaultContext = 8192;
inline constexpr int64_t kDefaultBatch = 512;
// Runtime, tokenizer, activations of one prefill chunk, allocator slack: a round figure until the
// exact accounting lands.
inline constexpr uint64_t kRuntimeOverheadBytes = 512ull << 20;

struct MachineMemory {
    uint64_t ram_total = 0;      // 0 = unknown
    uint64_t ram_available = 0;  // what can be used without swapping (MemAvailable)
    std::vector<GpuInfo> gpus;
};

// /proc/meminfo and query_cuda_devices(); never throws (unknown values stay 0).
MachineMemory probe_machine_memory();
// MemTotal and MemAvailable of a /proc/meminfo text (kB lines); absent or garbled lines give 0.
void parse_meminfo(const std::string& text, MachineMemory& m);

// Bytes of the f32 KV cache text/kv_cache.cpp allocates: KV-owning layers only; full layers hold
// `context` positions, sliding layers a ring of window + chunk - 1 when that is smaller.
uint64_t kv_cache_bytes(const TextConfig& c, int64_t context, int64_t max_chunk = kDefaultBatch);

struct MemoryNeed {
    uint64_t weights = 0;        // every tensor as stored (text, PLE table, towers)
    uint64_t host_resident = 0;  // of `weights`, what may stay in host memory beside a GPU (the
                                 // per-layer embedding table: one row is read per token)
    uint64_t kv_cache = 0;
    uint64_t overhead = 0;
    uint64_t total() const { return weights + kv_cache + overhead; }
};

// `context` is capped at the model's maximum, as the engine does.
MemoryNeed estimate_memory(const ModelReport& r, const ModelConfig& c, int64_t context = kDefaultContext);

struct FitEstimate {
    enum class Verdict { Fits, Tight, TooLarge };
    Verdict verdict = Verdict::TooLarge;
    std::string device;   // "GPU 0 (NVIDIA H100)" or "CPU"
    std::string summary;  // one line in plain words
};
const char* verdict_name(FitEstimate::Verdict v);  // "fits", "tight", "too large"

// `host_resident_bytes`: the part of `memory_bytes` that can stay in RAM when the rest is on a GPU.
// Fits: within 90% of the free memory of a GPU or of the available RAM (a GPU preferred);
// Tight: only with the memory other programs hold now (up to the GPU's or the RAM's total);
// TooLarge: more than the device has at all. Unknown RAM size reads as Tight.
FitEstimate estimate_fit(uint64_t memory_bytes, const MachineMemory& m, uint64_t host_resident_bytes = 0);

// "6.1 GB": binary gigabytes, as system memory meters show them.
std::string format_gb(uint64_t bytes);

}  // namespace gd
