#pragma once
// The compute interface the towers are written against. A Backend owns device memory and runs ops
// in submission order on one queue (the CPU backend runs each op to completion on its thread pool;
// the CUDA backend enqueues on a stream). Results become visible to the host through download(),
// which waits for the queue. Activations are f32 matrices [rows, cols] in device memory; weights
// stay in their stored type (f32, f16, bf16 or a GGUF block type) and are placed by upload_weight
// (zero-copy from the file mapping on the CPU).
//
// Ops are coarse (a whole RMSNorm, a whole attention over the cache, a whole MoE expert pass) so that
// one interface fits both a CPU with threads and a GPU with kernels, and so that a newcomer can read a
// layer as a short list of ops (see text/decoder_layer.cpp).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "format/dtype.h"
#include "format/tensor_view.h"
#include "sampling/sampler.h"

namespace gd {

enum class DeviceKind { Cpu, Cuda };

// An f32 matrix in device memory. Copies share the storage; `view_rows` makes a view of rows.
struct Tensor {
    std::shared_ptr<void> storage;  // keeps the allocation alive
    float* data = nullptr;          // device address of row 0
    int64_t rows = 0, cols = 0;
    int64_t ld = 0;                 // elements between consecutive rows (>= cols)
    DeviceKind device = DeviceKind::Cpu;

    bool empty() const { return data == nullptr; }
    int64_t elements() const { return rows * cols; }
    float* row(int64_t r) const { return data + r * ld; }
    Tensor view_rows(int64_t first, int64_t count) const;
    Tensor view_cols(int64_t first, int64_t count) const;  // a column block (ld stays)
};

// A weight matrix [experts][rows][cols] in its stored type: rows are output features, cols input
// features (PyTorch's Linear layout, which GGUF's ne[] reversed also gives). Vectors (norm weights,
// scales) have rows == 1; the backend also keeps them as f32.
struct Weight {
    std::string name;
    DType type = DType::F32;
    int64_t experts = 1, rows = 0, cols = 0;
    size_t row_bytes = 0;            // bytes of one stored row of `cols` elements
    const uint8_t* host = nullptr;   // stored bytes in host memory (the file mapping), when there
    std::shared_ptr<void> device;    // backend-owned copy, when the backend made one
    const uint8_t* device_data = nullptr;
    std::vector<float> f32;          // small vectors decoded to f32 (norms, scales), else empty
    const float* device_f32 = nullptr;  // those vectors as f32 in device memory (GPU backends)

    bool present() const { return rows > 0; }
    uint64_t stored_bytes() const { return static_cast<uint64_t>(experts) * static_cast<uint64_t>(rows) * row_bytes; }
};

enum class WeightPlacement { Device, Host };

// The K/V of one KV-owning layer: `capacity` slots of [kv_heads * head_dim] floats. Full-attention
// layers hold every position (slot = position); sliding layers a ring (slot = position % capacity)
// of at least window + chunk - 1 slots, so a prefill chunk never overwrites a key it still needs.
struct KvLayer {
    Tensor k, v;
    int64_t capacity = 0;
    int64_t kv_heads = 0, head_dim = 0;
    bool ring = false;
};

// Which keys a query at position i sees: positions j with lo(i) <= j <= i, where lo(i) = 0 for full
// attention and i - window + 1 for sliding layers (spec §2.6.4).
struct AttentionParams {
    int64_t q_heads = 0, kv_heads = 0, head_dim = 0;
    int64_t window = 0;          // 0 = full causal attention
    int64_t first_position = 0;  // position of query row 0; rows are consecutive positions
    float scale = 1.0f;          // Gemma 4 uses 1.0 (no 1/sqrt(d))
    // Bidirectional blocks [first, end) of absolute positions inside this call's rows (images on
    // 26B/31B sliding layers, spec §2.6.4): a query in a block also sees the block's later keys,
    // i.e. keys lo(i) <= j < end. Ordered and non-overlapping.
    std::vector<std::pair<int64_t, int64_t>> blocks;
};

// Per-token routing of a mixture-of-experts layer, on the host: for token t, experts ids[t*k + j]
// with weights[t*k + j].
struct ExpertRouting {
    int64_t tokens = 0, k = 0;
    std::vector<int32_t> ids;
    std::vector<float> weights;
};

// Receives named intermediate tensors (the reference's names) for layer-by-layer comparison.
using TensorObserver = std::function<void(const std::string& name, const Tensor& t)>;

struct BackendStats {
    uint64_t weight_bytes = 0;   // weights the backend holds (mapped or copied)
    uint64_t buffer_bytes = 0;   // activations and caches currently allocated
    uint64_t peak_buffer_bytes = 0;
    uint64_t steps_replayed = 0;  // decode steps run as a replayed recording (CUDA graphs)
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual DeviceKind kind() const = 0;
    virtual std::string name() const = 0;       // "cpu (avx512, 2 threads)"

    // ---- memory ----
    virtual Tensor alloc(int64_t rows, int64_t cols) = 0;          // zero-filled
    virtual void upload(const float* host, const Tensor& dst) = 0;  // dst.elements() floats, row-major
    virtual void download(const Tensor& src, float* host) = 0;      // waits for the queue
    // Places a weight from its file view. `shape` is [experts,] rows, cols or a vector [n].
    // WeightPlacement::Host keeps it in host memory on every backend (the per-layer-embedding table:
    // gigabytes of which a token reads one row); only get_rows may use such a weight.
    virtual Weight upload_weight(const TensorView& view, WeightPlacement placement = WeightPlacement::Device) = 0;
    virtual void synchronize() = 0;
    virtual BackendStats stats() const = 0;

    // ---- ops (dst may alias src only where noted) ----
    // dst[r] = rows of `table` picked by ids (decoded to f32) times `scale`. The table may stay in host
    // memory (the per-layer-embedding table is read one row per token).
    virtual void get_rows(const Weight& table, const std::vector<int32_t>& ids, float scale, const Tensor& dst) = 0;
    // y[T, rows] = x[T, cols] · Wᵀ (for expert `expert` of a stacked weight).
    virtual void matmul(const Weight& w, const Tensor& x, const Tensor& y, int64_t expert = 0) = 0;
    // RMSNorm of every `group` consecutive elements of each row (group == cols for a whole row;
    // head_dim for per-head q/k/v norms), times `weight` (length group) unless it is null. In place allowed.
    virtual void rms_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) = 0;
    // NeoX ("rotate half") RoPE on each head of each row: row t is at position first_position + t.
    // inv_freq has head_dim/2 entries (0 = that pair does not rotate). In place.
    virtual void rope(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq, int64_t first_position) = 0;
    // out[t, :] = gelu_tanh(gate[t, :]) * up[t, :]. out may alias gate.
    virtual void gelu_mul(const Tensor& gate, const Tensor& up, const Tensor& out) = 0;
    virtual void add(const Tensor& a, const Tensor& b, const Tensor& out) = 0;   // out may alias a or b
    virtual void copy(const Tensor& src, const Tensor& dst) = 0;                 // same shape, no overlap
    virtual void scale(const Tensor& x, float s) = 0;                            // in place
    virtual void mul_rows(const Tensor& x, const std::vector<float>& v) = 0;     // x[t, c] *= v[c]; in place
    virtual void softcap(const Tensor& x, float cap) = 0;                        // x = cap * tanh(x / cap)
    // Writes rows of k and v (positions first_position..) into the layer's cache.
    virtual void kv_store(KvLayer& cache, const Tensor& k, const Tensor& v, int64_t first_position) = 0;
    // Attention of q [T, q_heads*head_dim] over the cache; out [T, q_heads*head_dim].
    virtual void attention(const Tensor& q, const KvLayer& cache, const AttentionParams& p, const Tensor& out) = 0;
    // Mixture of experts: out[t] = Σ_j weight_tj · down_e(gelu(gate_e(x_t)) ⊙ up_e(x_t)), e = ids_tj,
    // with gate_up [E, 2I, H] (gate rows first) and down [E, H, I].
    virtual void moe_experts(const Tensor& x, const ExpertRouting& routing, const Weight& gate_up,
                             const Weight& down, const Tensor& out) = 0;

    // ---- routing and sampling on the device (a decode step reads back only the sampled id) ----
    // The router of a MoE layer (spec §2.9) from its logits [T, E]: softmax over all experts, the top
    // k (ties to the lower id, as torch.topk), renormalised over those k, times expert_scale[e].
    // routing [T, 2k]: columns 0..k-1 the expert ids (as floats, exact), k..2k-1 their weights.
    virtual void moe_route(const Tensor& logits, int64_t k, const Weight& expert_scale, const Tensor& routing) = 0;
    // moe_experts with the routing moe_route left on the device.
    virtual void moe_experts_routed(const Tensor& x, const Tensor& routing, const Weight& gate_up, const Weight& down,
                                    const Tensor& out) = 0;
    // The next token from one row of logits by the sampler's rules (sampling/sampler.h) with
    // `uniform` in [0, 1) as the draw (unused when greedy); `recent` as Sampler::sample takes it.
    // Returns the id, the only value that comes back from the device. Throws when no logit is finite.
    virtual int32_t sample_token(const Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& recent,
                                 double uniform) = 0;
    // log softmax(logits)[id] of one row (NaN when any logit is not finite).
    virtual float log_softmax_at(const Tensor& logits, int32_t id) = 0;

    // ---- decode steps as recorded work (CUDA graphs) ----
    // Runs `step`, which issues the ops of one decode step, and returns what it returns. A GPU backend
    // may record the ops the first times a `key` (the KV cache, which fixes the step's shapes) is
    // seen and afterwards replay the recording at each new `position`: `step` still runs on the host
    // every time (its checks, its token ids and host rows), but queues nothing. Tensors allocated in a
    // step are valid until the next step with the same key. The CPU runs `step` as it is.
    virtual Tensor run_decode_step(const void* key, int64_t position, const std::function<Tensor()>& step) {
        (void)key;
        (void)position;
        return step();
    }

    // ---- vision/audio tower ops ----
    // The encoders see a whole image (or audio clip) at once: no cache, no causality, positions given
    // per row. Row positions and vectors come from the host, like get_rows' ids.

    // out = min(max(x, lo), hi) elementwise (the clipped linears' bounds, spec §3.4). out may alias x.
    virtual void clamp(const Tensor& x, float lo, float hi, const Tensor& out) = 0;
    // x[t, c] += v[c]; in place (the standardisation's bias, with v = -std_bias).
    virtual void add_rows(const Tensor& x, const std::vector<float>& v) = 0;
    // 2-D RoPE of the vision tower (spec §3.4), in place: each head of head_dim is split into two
    // halves; the first half is NeoX-rotated ("rotate half", pairs j <-> j + head_dim/4) by the row's
    // pos_x, the second half the same way by its pos_y. inv_freq has head_dim/4 entries (one ladder
    // for both axes); pos_x and pos_y have one entry per row, 0 <= position < 2^20.
    virtual void rope_2d(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq,
                         const std::vector<int32_t>& pos_x, const std::vector<int32_t>& pos_y) = 0;
    // Dense bidirectional attention, every query over every key, multi-head with as many K/V heads
    // as query heads: q, k, v [N, heads*head_dim] (k and v may have other row counts than q:
    // [M, heads*head_dim]); out [N, heads*head_dim]. out must not alias q, k or v.
    virtual void attention_dense(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads,
                                 int64_t head_dim, float scale, const Tensor& out) = 0;
    // Mean of each non-overlapping k x k block of a grid_h x grid_w grid of rows in raster order
    // (row index = y * grid_w + x); out [(grid_h/k) * (grid_w/k), cols] in raster order of the
    // pooled grid. grid_w and grid_h must be multiples of k.
    virtual void average_pool(const Tensor& x, int64_t grid_w, int64_t grid_h, int64_t k, const Tensor& out) = 0;

    // ---- audio tower ops (the conformer, spec §4.3–4.5) ----
    // LayerNorm (mean-subtracting, biased variance) of every `group` consecutive elements of each row,
    // times `weight` (length group) unless null; no bias. In place allowed.
    virtual void layer_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) = 0;
    virtual void relu(const Tensor& x) = 0;   // x = max(x, 0), in place
    virtual void silu(const Tensor& x) = 0;   // x = x * sigmoid(x), in place
    // Gated linear unit over each row: out[t, c] = x[t, c] * sigmoid(x[t, C + c]) with C = out.cols and
    // x.cols = 2C. out must not alias x.
    virtual void glu(const Tensor& x, const Tensor& out) = 0;
    // Causal depthwise convolution along the rows (time): out[t, c] = sum_j taps[c*K + j] * x[t-K+1+j, c]
    // for j < K, rows before 0 counting as zero. taps has out.cols * K values. out must not alias x.
    virtual void causal_depthwise_conv(const Tensor& x, const std::vector<float>& taps, int64_t K,
                                       const Tensor& out) = 0;
    // Local causal attention with a relative-position term and a logit cap, multi-head with as many
    // K/V heads as query heads (the audio conformer): query t sees keys s with 0 <= t - s < window;
    //   logit = cap * tanh((q_t . k_s + q_t . rel_{t-s}) / cap),  softmax over the allowed s,
    //   out_t = sum_s p_s v_s.
    // q, k, v, out [T, heads*head_dim]; rel [window, heads*head_dim], row d for distance d. No scale is
    // applied (the caller scales q and k). out must not alias q, k or v.
    virtual void attention_local(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel,
                                 int64_t heads, int64_t head_dim, int64_t window, float cap, const Tensor& out) = 0;
};

// The CPU backend with `threads` worker threads (0 = one per core).
std::unique_ptr<Backend> make_cpu_backend(int threads = 0);
// Whether this build has the CUDA backend (nvcc was found when it was configured).
bool cuda_backend_built();
// The CUDA backend on GPU `device`. Throws gd::Error when the build has no CUDA support or the GPU
// cannot be used (no driver, no such device, too old a compute capability).
std::unique_ptr<Backend> make_cuda_backend(int device = 0);

}  // namespace gd
