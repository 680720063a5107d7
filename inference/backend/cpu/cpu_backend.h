#pragma once
// The CPU implementation of Backend: weights used in place from the file mapping, activations in
// host memory, every op split over a ThreadPool. Ops live in one file per family:
// cpu_backend.cpp (memory, weights, matmul, row lookup), cpu_elementwise.cpp (norms, RoPE, GELU, ...),
// cpu_attention.cpp (KV cache and attention), cpu_moe.cpp (mixture of experts).
#include <atomic>
#include <memory>
#include "backend/backend.h"
#include "backend/cpu/matmul_kernels.h"
#include "backend/cpu/thread_pool.h"

namespace gd::cpu {

class CpuBackend final : public Backend {
public:
    explicit CpuBackend(int threads);
    DeviceKind kind() const override { return DeviceKind::Cpu; }
    std::string name() const override;

    Tensor alloc(int64_t rows, int64_t cols) override;
    void upload(const float* host, const Tensor& dst) override;
    void download(const Tensor& src, float* host) override;
    Weight upload_weight(const TensorView& view, WeightPlacement placement = WeightPlacement::Device) override;
    void synchronize() override {}
    BackendStats stats() const override;

    void get_rows(const Weight& table, const std::vector<int32_t>& ids, float scale, const Tensor& dst) override;
    void matmul(const Weight& w, const Tensor& x, const Tensor& y, int64_t expert = 0) override;
    void rms_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) override;
    void rope(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq, int64_t first_position) override;
    void gelu_mul(const Tensor& gate, const Tensor& up, const Tensor& out) override;
    void add(const Tensor& a, const Tensor& b, const Tensor& out) override;
    void copy(const Tensor& src, const Tensor& dst) override;
    void scale(const Tensor& x, float s) override;
    void mul_rows(const Tensor& x, const std::vector<float>& v) override;
    void softcap(const Tensor& x, float cap) override;
    void kv_store(KvLayer& cache, const Tensor& k, const Tensor& v, int64_t first_position) override;
    void attention(const Tensor& q, const KvLayer& cache, const AttentionParams& p, const Tensor& out) override;
    void moe_experts(const Tensor& x, const ExpertRouting& routing, const Weight& gate_up, const Weight& down,
                     const Tensor& out) override;
    void moe_route(const Tensor& logits, int64_t k, const Weight& expert_scale, const Tensor& routing) override;
    void moe_experts_routed(const Tensor& x, const Tensor& routing, const Weight& gate_up, const Weight& down,
                            const Tensor& out) override;
    int32_t sample_token(const Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& recent,
                         double uniform) override;
    float log_softmax_at(const Tensor& logits, int32_t id) override;

    // ---- vision/audio tower ops (cpu_tower_ops.cpp; attention kernels in cpu_tower_attention.cpp) ----
    void clamp(const Tensor& x, float lo, float hi, const Tensor& out) override;
    void add_rows(const Tensor& x, const std::vector<float>& v) override;
    void rope_2d(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq,
                 const std::vector<int32_t>& pos_x, const std::vector<int32_t>& pos_y) override;
    void attention_dense(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, int64_t head_dim,
                         float scale, const Tensor& out) override;
    void average_pool(const Tensor& x, int64_t grid_w, int64_t grid_h, int64_t k, const Tensor& out) override;

    // ---- audio tower ops (cpu_audio_ops.cpp) ----
    void layer_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) override;
    void relu(const Tensor& x) override;
    void silu(const Tensor& x) override;
    void glu(const Tensor& x, const Tensor& out) override;
    void causal_depthwise_conv(const Tensor& x, const std::vector<float>& taps, int64_t K, const Tensor& out) override;
    void attention_local(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel, int64_t heads,
                         int64_t head_dim, int64_t window, float cap, const Tensor& out) override;

    ThreadPool& pool() { return pool_; }
    Isa isa() const { return isa_; }

private:
    // Runs fn(begin, end) over rows [0, n) on the pool.
    void for_rows(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

    ThreadPool pool_;
    Isa isa_;
    std::shared_ptr<std::atomic<uint64_t>> live_bytes_;
    std::shared_ptr<std::atomic<uint64_t>> peak_bytes_;
    uint64_t weight_bytes_ = 0;
};

}  // namespace gd::cpu
