#pragma once
// The CUDA implementation of Backend: weights uploaded once to device memory (the per-layer-embedding
// table stays in host memory and its rows are gathered per token), activations and the KV cache in
// device memory from a stream-ordered pool, every op a kernel (or cuBLAS call) queued on one stream.
// Nothing comes back to the host but what download() and sample_token() ask for.
//
// Where each op runs: cuda_elementwise.cu, cuda_norm.cu, cuda_rope.cu (per-element and per-row ops),
// cuda_quant_matmul.cu + cuda_matmul.cpp (products with every weight type), cuda_attention.cu (KV
// cache and decoder attention), cuda_moe.cu (router and experts), cuda_tower_ops.cu and
// cuda_tower_attention.cu (vision/audio towers), cuda_sampling.cu, cuda_gather.cu (row moves).
#include <atomic>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/cuda_context.h"
#include "backend/cuda/cuda_graph_step.h"

namespace gd::cuda {

// The stream, handles and counters; shared with every allocation so memory freed after the backend
// is gone still has a stream to be freed on.
struct DeviceState {
    CudaContext ctx;
    std::atomic<uint64_t> live_bytes{0}, peak_bytes{0};
    std::string name;
    ~DeviceState();
};

class CudaBackend final : public Backend {
public:
    explicit CudaBackend(int device);
    ~CudaBackend() override;
    DeviceKind kind() const override { return DeviceKind::Cuda; }
    std::string name() const override { return state_->name; }

    Tensor alloc(int64_t rows, int64_t cols) override;
    void upload(const float* host, const Tensor& dst) override;
    void download(const Tensor& src, float* host) override;
    Weight upload_weight(const TensorView& view, WeightPlacement placement = WeightPlacement::Device) override;
    void synchronize() override;
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

    void clamp(const Tensor& x, float lo, float hi, const Tensor& out) override;
    void add_rows(const Tensor& x, const std::vector<float>& v) override;
    void rope_2d(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq,
                 const std::vector<int32_t>& pos_x, const std::vector<int32_t>& pos_y) override;
    void attention_dense(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, int64_t head_dim,
                         float scale, const Tensor& out) override;
    void average_pool(const Tensor& x, int64_t grid_w, int64_t grid_h, int64_t k, const Tensor& out) override;

    void layer_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) override;
    void relu(const Tensor& x) override;
    void silu(const Tensor& x) override;
    void glu(const Tensor& x, const Tensor& out) override;
    void causal_depthwise_conv(const Tensor& x, const std::vector<float>& taps, int64_t K, const Tensor& out) override;
    void attention_local(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel, int64_t heads,
                         int64_t head_dim, int64_t window, float cap, const Tensor& out) override;

    Tensor run_decode_step(const void* key, int64_t position, const std::function<Tensor()>& step) override;
    // Decode steps as CUDA graphs (on by default; GD_CUDA_GRAPHS=0 turns them off).
    void set_graphs_enabled(bool on) { graphs_enabled_ = on; }

    const CudaContext& context() const { return state_->ctx; }

private:
    cudaStream_t stream() const { return state_->ctx.stream; }
    // A host vector that recurs from call to call (RoPE frequencies, router scales): uploaded once
    // and kept, keyed by its contents.
    const float* constant(const std::vector<float>& v);
    // A norm's weight in device memory (the weight's own device copy, or a kept upload of its f32).
    const float* vector_on_device(const Weight& w);

    // ---- recorded decode steps (cuda_graph_step.h) ----
    // True when the op must not queue work (a replay); records or checks the op's signature.
    bool replaying(const char* op, std::initializer_list<const void*> ptrs, std::initializer_list<int64_t> dims = {});
    // Where a step's host input goes: the device address the kernels read it from (eager: uploaded to
    // `scratch`; recording/replaying: staged in the pinned buffer, copied before the launch).
    const void* step_input(const void* host, size_t bytes, DeviceBuffer& scratch);
    const int64_t* position_offset() const;  // null when eager
    // Runs `step` with the ops in `mode`, back to Eager however it ends.
    Tensor step_in_mode(StepMode mode, const std::function<Tensor()>& step);
    Tensor record_step(StepGraph& g, int64_t position, const std::function<Tensor()>& step);
    Tensor replay_step(StepGraph& g, int64_t position, const std::function<Tensor()>& step);
    void launch_step(const StepGraph& g);

    StepMode mode_ = StepMode::Eager;
    bool graphs_enabled_ = true;
    std::map<const void*, std::unique_ptr<StepGraph>> graphs_;
    StepGraph* current_ = nullptr;
    uint64_t measured_bytes_ = 0;
    size_t arena_cursor_ = 0, input_cursor_ = 0, op_cursor_ = 0;
    uint64_t steps_replayed_ = 0;
    std::shared_ptr<void> inputs_host_, inputs_device_;  // pinned staging buffer and its device mirror

    std::shared_ptr<DeviceState> state_;
    uint64_t weight_bytes_ = 0;
    std::map<std::vector<float>, std::shared_ptr<void>> constants_;
};

}  // namespace gd::cuda
