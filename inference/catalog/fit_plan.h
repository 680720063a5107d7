#pragma once
// The fit planner: from the models on disk (or the four variants as recommendations), the variant,
// weight type, context length and GPU/CPU split that fit a machine, preferring quality (a bigger
// variant, then a higher precision: bf16/f16 > q8_0 > q4_k), then speed (every layer on the GPU >
// the first layers on the GPU > CPU only), then the larger context.
//
// Rules (the memory figures are catalog/memory_model.h's):
//  * GPU: what goes on it must be within 90% of its free memory (fragmentation, other programs).
//  * RAM: what stays in host memory (the per-layer-embedding table always; with a split, the CPU's
//    layers, the embedding/head and the towers; on the CPU everything) must be within the available
//    RAM less an OS reserve (kOsReserveBytes).
//  * Context: the requested one (capped at the model's maximum), else the largest of {the model's
//    maximum, 128K, 32K, 8K, 4K} that fits. A faster placement is taken over a larger context as
//    long as it holds at least 8K (or the model's maximum, when smaller); 4K only when nothing
//    holds 8K.
//  * A split puts decoder layers [0, gpu_layers) on the GPU, as many as fit. The engine runs a model
//    wholly on one device today: a split plan is the plan, to be run once split execution lands.
//  * bf16/f16/f32 weights on disk that do not fit are planned as q8_0 or q4_k made at load time
//    (catalog/model_quantizer.h; `gemmadesk-cli quantize` saves them as a GGUF file).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "catalog/machine_probe.h"
#include "catalog/memory_model.h"
#include "format/dtype.h"
#include "model/model_config.h"

namespace gd {

class ModelFiles;

inline constexpr uint64_t kOsReserveBytes = 1536ull << 20;  // the OS, the desktop and the app's interface
inline constexpr double kGpuUsableFraction = 0.9;

// A model the planner may choose: on disk, or a recommendation (a published variant in a type).
struct PlanCandidate {
    std::string name;                // "e4b q4_k (recommended)" or the model's path
    std::vector<std::string> paths;  // empty for a recommendation
    ModelConfig config;
    WeightLayout weights;            // as stored
    DType weight_type = DType::BF16; // the type most matrix bytes are stored in
    bool on_disk = false;
};

// Opens nothing: describes files already opened (`paths` as the user gave them).
PlanCandidate candidate_from_files(const ModelFiles& files, const std::vector<std::string>& paths);
// The four variants × {bf16, q8_0, q4_k} with both towers (E2B/E4B) or the vision tower (26B/31B).
std::vector<PlanCandidate> recommended_candidates();

struct PlanRequest {
    int64_t context = 0;                 // 0 = choose
    KvCacheType cache = KvCacheType::F32;
    int64_t batch = 512;                 // prefill chunk the session is opened with
    int64_t image_tokens = 1120;         // image budget the vision activations are sized for
};

enum class PlanDevice { Gpu, Split, Cpu };
const char* plan_device_name(PlanDevice d);  // "gpu", "split", "cpu"

struct FitPlan {
    std::string model;                 // candidate name
    std::vector<std::string> paths;
    std::string variant;               // "e4b", ...
    bool recommendation = false;
    DType stored_type = DType::BF16;   // as on disk (or recommended)
    DType weight_type = DType::BF16;   // what runs: stored_type, or the load-time quantization
    bool load_time_quantization = false;
    bool fits = false;
    PlanDevice device = PlanDevice::Cpu;
    int gpu_index = -1;                // the CUDA device, -1 for CPU plans
    int64_t context = 0;
    int64_t gpu_layers = 0;            // decoder layers [0, gpu_layers) on the GPU
    int64_t num_layers = 0;
    KvCacheType cache = KvCacheType::F32;
    MemoryEstimate memory;
    uint64_t gpu_budget = 0;           // 90% of the GPU's free memory (0 without one)
    uint64_t ram_budget = 0;           // available RAM less the OS reserve
    std::string why;                   // plain words: why this choice, or why it does not fit
};

// Every candidate gets one plan (per weight type it may run in); fitting plans first, best first.
std::vector<FitPlan> plan_fit(const std::vector<PlanCandidate>& candidates, const MachineInfo& machine,
                              const PlanRequest& request);

// The rank the planner orders by (lower is better), for tests and the app's picker.
int variant_quality(const std::string& variant);  // 31b 4, 26b-a4b 3, e4b 2, e2b 1, else 0
int precision_quality(DType t);                    // f32/f16/bf16 3, q8_0 2 (and q6_k, q5_*), q4_k etc. 1, lower 0

nlohmann::json plan_to_json(const FitPlan& p);
nlohmann::json machine_to_json(const MachineInfo& m);

}  // namespace gd
