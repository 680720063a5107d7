// Decode and prefill speed of the CUDA backend on full-size random models (make-test-model's shapes
// and values): batch-1 decode tokens/s with the steps launched one by one and as replayed CUDA
// graphs, prefill tokens/s, and the decode roofline (measured device-to-device bandwidth / bytes of
// weights read per token, the host-resident per-layer-embedding table excluded).
//
//   bench_cuda_decode [--variants e2b,e4b] [--types q4_k,q8_0] [--dir /tmp/gd-bench] [--tokens 64]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <cuda_runtime_api.h>

#include "backend/backend.h"
#include "catalog/memory_model.h"
#include "model/model_files.h"
#include "support/bench_support.h"
#include "testmodel/test_model.h"
#include "text/kv_cache.h"
#include "text/decoder.h"
#include "text/text_weights.h"

namespace gd {
namespace {

using bench::Clock;
using bench::seconds_since;

// Device-to-device copy of 2 GiB, bytes read + written per second (the memory roofline).
double copy_bandwidth() {
    const size_t n = size_t{1} << 31;
    void *a = nullptr, *b = nullptr;
    if (cudaMalloc(&a, n) != cudaSuccess || cudaMalloc(&b, n) != cudaSuccess) return 0;
    cudaMemset(a, 1, n);
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    cudaEventRecord(e0);
    for (int i = 0; i < 10; ++i) cudaMemcpy(b, a, n, cudaMemcpyDeviceToDevice);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    cudaFree(a);
    cudaFree(b);
    return 10.0 * 2.0 * static_cast<double>(n) / (ms / 1000.0);
}

struct Result {
    double prefill_tps = 0, eager_tps = 0, graph_tps = 0;
    uint64_t gpu_weight_bytes = 0;
    uint64_t gpu_used = 0, gpu_predicted = 0;  // device memory in use after the run vs the memory model
};

Result run(const std::string& path, int tokens) {
    Result r;
    for (int graphs = 0; graphs < 2; ++graphs) {
        if (!graphs) setenv("GD_CUDA_GRAPHS", "0", 1);
        else unsetenv("GD_CUDA_GRAPHS");
        auto backend = make_cuda_backend(0);
        ModelFiles files = ModelFiles::open({path});
        TextWeights w = load_text_weights(files, *backend);
        TextDecoder d(files.config(), std::move(w), *backend);
        r.gpu_weight_bytes = backend->stats().weight_bytes;
        KvCache cache = d.make_cache(4096, 512);
        MemoryRequest req;
        req.context = 4096;
        req.chunk = 512;
        req.gpu = true;
        req.gpu_layers = files.config().text.num_layers;
        r.gpu_predicted = estimate_memory_parts(files.config(), weight_layout(files), req).gpu_total();
        std::vector<int32_t> prompt;
        for (int i = 0; i < 512; ++i) prompt.push_back(1000 + (i * 7919) % 100000);
        SamplingParams greedy;
        greedy.temperature = 0;
        auto t0 = Clock::now();
        Tensor logits = d.forward_to_logits(prompt, {}, cache);
        int32_t id = backend->sample_token(logits, greedy, {}, 0.0);
        const double prefill = seconds_since(t0);
        if (graphs) r.prefill_tps = 512 / prefill;
        // Three warm-up steps (the measuring and the recording step of a graph), then the timed ones.
        for (int i = 0; i < 3; ++i) id = backend->sample_token(d.forward_to_logits({id}, {}, cache), greedy, {}, 0.0);
        t0 = Clock::now();
        for (int i = 0; i < tokens; ++i) id = backend->sample_token(d.forward_to_logits({id}, {}, cache), greedy, {}, 0.0);
        const double tps = tokens / seconds_since(t0);
        (graphs ? r.graph_tps : r.eager_tps) = tps;
        // The pool keeps what the run freed, so used memory now is the run's peak (one process, one GPU).
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        r.gpu_used = std::max<uint64_t>(r.gpu_used, total_b - free_b);
        if (graphs && backend->stats().steps_replayed < static_cast<uint64_t>(tokens))
            std::fprintf(stderr, "warning: only %llu steps were replayed\n",
                         static_cast<unsigned long long>(backend->stats().steps_replayed));
    }
    return r;
}

}  // namespace
}  // namespace gd

int main(int argc, char** argv) {
    std::string variants = "e2b", types = "q4_k", dir = "/tmp/gd-bench";
    int tokens = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--variants") variants = v;
        else if (k == "--types") types = v;
        else if (k == "--dir") dir = v;
        else if (k == "--tokens") tokens = std::atoi(v.c_str());
    }
    const double bw = gd::copy_bandwidth();
    std::printf("device-to-device copy: %.0f GB/s (read + write)\n", bw / 1e9);
    std::printf("%-8s %-6s %10s %12s %12s %12s %9s %10s %10s\n", "variant", "type", "GPU GB", "prefill t/s", "eager t/s",
                "graph t/s", "roofline", "used GiB", "model GiB");
    for (const std::string& vn : gd::bench::split_list(variants)) {
        for (const std::string& tn : gd::bench::split_list(types)) {
            gd::TestModelOptions o;
            o.variant = *gd::variant_from_name(vn);
            o.size = gd::ModelSize::Full;
            o.format = gd::TestModelFormat::Gguf;
            o.dtype = *gd::dtype_from_name(tn);
            o.seed = 1;
            std::filesystem::create_directories(dir);
            o.out = dir + "/" + vn + "-" + tn + ".gguf";
            if (!std::filesystem::exists(o.out)) {
                const auto t0 = gd::bench::Clock::now();
                gd::write_test_model(o);
                std::fprintf(stderr, "wrote %s in %.0f s\n", o.out.c_str(), gd::bench::seconds_since(t0));
            }
            const gd::Result r = gd::run(o.out, tokens);
            // Bytes read per decode token: every weight on the GPU once (the tied embedding matrix as
            // the output head; its lookup row is negligible).
            const double roof = bw / static_cast<double>(r.gpu_weight_bytes);
            std::printf("%-8s %-6s %10.2f %12.0f %12.1f %12.1f %8.0f%% %10.2f %10.2f\n", vn.c_str(), tn.c_str(),
                        r.gpu_weight_bytes / 1e9, r.prefill_tps, r.eager_tps, r.graph_tps, 100.0 * r.graph_tps / roof,
                        r.gpu_used / 1073741824.0, r.gpu_predicted / 1073741824.0);
        }
    }
    return 0;
}
