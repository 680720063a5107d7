#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>

#include "backend/attention_checks.h"
#include "backend/cuda/cuda_gather.h"
#include "backend/cuda/cuda_kernels.h"
#include "backend/cuda/cuda_logprob.h"
#include "backend/moe_routing.h"
#include "backend/weight_shape.h"
#include "common/error.h"
#include "format/quant/quant.h"

namespace gd {

bool cuda_backend_built() { return true; }

std::unique_ptr<Backend> make_cuda_backend(int device) { return std::make_unique<cuda::CudaBackend>(device); }

namespace cuda {
namespace {

Mat mat(const Tensor& t) {
    if (!t.empty() && t.device != DeviceKind::Cuda) throw Error("a CPU tensor was passed to the CUDA backend");
    return Mat{t.data, t.rows, t.cols, t.ld};
}

WeightView view(const Weight& w) {
    if (!w.device_data) throw Error("weight " + w.name + " is not in GPU memory");
    return WeightView{w.type, w.device_data, w.experts, w.rows, w.cols, w.row_bytes};
}

KvView kv_view(const KvLayer& l) {
    return KvView{l.k.data, l.v.data, l.capacity, l.kv_heads, l.head_dim, l.k.ld, l.ring};
}

void require(bool ok, const char* what) {
    if (!ok) throw Error(std::string(what) + ": shapes do not fit");
}

// Host inputs of one recorded step: token ids and the per-layer-embedding rows (E4B: 42 layers x 256
// floats per token) with room to spare; the first 16 bytes hold the position offset.
constexpr size_t kStepInputsBytes = size_t{8} << 20;
constexpr size_t kStepInputsHeader = 16;

uint64_t fnv(uint64_t h, uint64_t v) {
    for (int i = 0; i < 8; ++i) h = (h ^ ((v >> (8 * i)) & 0xff)) * 1099511628211ull;
    return h;
}

}  // namespace

DeviceState::~DeviceState() {
    if (ctx.stream) cudaStreamSynchronize(ctx.stream);
    if (ctx.cublas) cublasDestroy(ctx.cublas);
    if (ctx.stream) cudaStreamDestroy(ctx.stream);
}

CudaBackend::CudaBackend(int device) : state_(std::make_shared<DeviceState>()) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        throw Error(std::string("no usable CUDA driver or GPU: ") + cudaGetErrorString(err));
    }
    if (device < 0 || device >= count) {
        throw Error("there is no GPU " + std::to_string(device) + " (this machine has " + std::to_string(count) + ")");
    }
    cudaDeviceProp p{};
    GD_CUDA(cudaGetDeviceProperties(&p, device));
    if (p.major * 10 + p.minor < 75) {
        throw Error(std::string(p.name) + " has compute capability " + std::to_string(p.major) + "." +
                    std::to_string(p.minor) + "; the CUDA backend needs 7.5 or newer");
    }
    GD_CUDA(cudaSetDevice(device));
    CudaContext& c = state_->ctx;
    c.device = device;
    c.sm_count = p.multiProcessorCount;
    c.shared_per_block_optin = p.sharedMemPerBlockOptin;
    GD_CUDA(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking));
    GD_CUDA(cublasCreate(&c.cublas));
    GD_CUDA(cublasSetStream(c.cublas, c.stream));
    // Freed activations stay in the pool for the next token instead of going back to the driver.
    cudaMemPool_t pool = nullptr;
    GD_CUDA(cudaDeviceGetDefaultMemPool(&pool, device));
    uint64_t keep = UINT64_MAX;
    GD_CUDA(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
    if (const char* e = std::getenv("GD_CUDA_GRAPHS")) graphs_enabled_ = std::string(e) != "0";
    state_->name = "cuda (" + std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
                   std::to_string(p.totalGlobalMem >> 30) + " GiB)";
}

CudaBackend::~CudaBackend() {
    if (state_->ctx.stream) cudaStreamSynchronize(state_->ctx.stream);
}

Tensor CudaBackend::alloc(int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0) throw Error("negative tensor size");
    const uint64_t n = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
    if (cols != 0 && n / static_cast<uint64_t>(cols) != static_cast<uint64_t>(rows)) throw Error("tensor size overflows");
    // 256-byte granules: every row block starts aligned for 16-byte vector loads.
    const uint64_t bytes = std::max<uint64_t>(256, (n * sizeof(float) + 255) / 256 * 256);
    if (mode_ == StepMode::Record || mode_ == StepMode::Replay) {
        // The recorded step's tensors: the same arena slices in every replay, zeroed by the graph.
        if (arena_cursor_ + bytes > current_->arena_bytes) throw StepMismatch{};
        float* p = reinterpret_cast<float*>(static_cast<uint8_t*>(current_->arena.get()) + arena_cursor_);
        arena_cursor_ += bytes;
        if (mode_ == StepMode::Record) GD_CUDA(cudaMemsetAsync(p, 0, bytes, stream()));
        Tensor t;
        t.storage = current_->arena;
        t.data = p;
        t.rows = rows;
        t.cols = cols;
        t.ld = cols;
        t.device = DeviceKind::Cuda;
        return t;
    }
    if (mode_ == StepMode::Measure) measured_bytes_ += bytes;
    void* p = nullptr;
    GD_CUDA(cudaMallocAsync(&p, bytes, stream()));
    GD_CUDA(cudaMemsetAsync(p, 0, bytes, stream()));
    const uint64_t now = state_->live_bytes.fetch_add(bytes) + bytes;
    uint64_t peak = state_->peak_bytes.load();
    while (now > peak && !state_->peak_bytes.compare_exchange_weak(peak, now)) {}
    std::shared_ptr<DeviceState> st = state_;
    Tensor t;
    t.storage = std::shared_ptr<void>(p, [st, bytes](void* q) {
        st->live_bytes.fetch_sub(bytes);
        cudaFreeAsync(q, st->ctx.stream);
    });
    t.data = static_cast<float*>(p);
    t.rows = rows;
    t.cols = cols;
    t.ld = cols;
    t.device = DeviceKind::Cuda;
    return t;
}

void CudaBackend::upload(const float* host, const Tensor& dst) {
    if (dst.elements() == 0) return;
    if (mode_ == StepMode::Record || mode_ == StepMode::Replay) throw StepMismatch{};  // pageable: not recordable
    // From pageable memory the runtime stages the bytes before returning, so `host` may go at once.
    GD_CUDA(cudaMemcpy2DAsync(dst.data, static_cast<size_t>(dst.ld) * sizeof(float), host,
                              static_cast<size_t>(dst.cols) * sizeof(float), static_cast<size_t>(dst.cols) * sizeof(float),
                              static_cast<size_t>(dst.rows), cudaMemcpyHostToDevice, stream()));
}

void CudaBackend::download(const Tensor& src, float* host) {
    if (src.elements() == 0) return;
    if (mode_ == StepMode::Record || mode_ == StepMode::Replay) throw StepMismatch{};
    GD_CUDA(cudaMemcpy2DAsync(host, static_cast<size_t>(src.cols) * sizeof(float), src.data,
                              static_cast<size_t>(src.ld) * sizeof(float), static_cast<size_t>(src.cols) * sizeof(float),
                              static_cast<size_t>(src.rows), cudaMemcpyDeviceToHost, stream()));
    GD_CUDA(cudaStreamSynchronize(stream()));
}

Weight CudaBackend::upload_weight(const TensorView& tv, WeightPlacement placement) {
    Weight w = describe_weight(tv);
    w.host = tv.data;
    if (placement == WeightPlacement::Host) return w;  // rows gathered on the host by get_rows
    if (!weight_type_supported(w.type)) {
        throw ModelError("tensor " + tv.name + " is stored as " + dtype_name(w.type) +
                         ", which the CUDA backend cannot compute with yet");
    }
    // Weights live as long as the model: plain cudaMalloc outside the activation pool.
    void* p = nullptr;
    GD_CUDA(cudaMalloc(&p, tv.nbytes));
    w.device = std::shared_ptr<void>(p, [](void* q) { cudaFree(q); });
    GD_CUDA(cudaMemcpyAsync(p, tv.data, tv.nbytes, cudaMemcpyHostToDevice, stream()));
    w.device_data = static_cast<const uint8_t*>(p);
    if (!w.f32.empty()) {
        void* f = nullptr;
        GD_CUDA(cudaMalloc(&f, w.f32.size() * sizeof(float)));
        GD_CUDA(cudaMemcpyAsync(f, w.f32.data(), w.f32.size() * sizeof(float), cudaMemcpyHostToDevice, stream()));
        // The vector's device f32 copy shares the weight's lifetime through a second owner.
        auto bytes_owner = w.device;
        w.device = std::shared_ptr<void>(p, [bytes_owner, f](void*) { cudaFree(f); });
        w.device_f32 = static_cast<const float*>(f);
    }
    // The copies read the file mapping: wait so a weight never outlives the pages it is read from
    // unfinished (and so a load's progress is real).
    GD_CUDA(cudaStreamSynchronize(stream()));
    weight_bytes_ += tv.nbytes;
    return w;
}

void CudaBackend::synchronize() { GD_CUDA(cudaStreamSynchronize(stream())); }

BackendStats CudaBackend::stats() const {
    BackendStats s;
    s.weight_bytes = weight_bytes_;
    s.buffer_bytes = state_->live_bytes.load();
    s.peak_buffer_bytes = state_->peak_bytes.load();
    s.steps_replayed = steps_replayed_;
    return s;
}

const float* CudaBackend::constant(const std::vector<float>& v) {
    auto it = constants_.find(v);
    if (it != constants_.end()) return static_cast<const float*>(it->second.get());
    if (mode_ == StepMode::Record || mode_ == StepMode::Replay) throw StepMismatch{};  // a synchronous copy
    void* p = nullptr;
    GD_CUDA(cudaMalloc(&p, std::max<size_t>(1, v.size()) * sizeof(float)));
    std::shared_ptr<void> owner(p, [](void* q) { cudaFree(q); });
    if (!v.empty()) GD_CUDA(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
    constants_.emplace(v, owner);
    return static_cast<const float*>(p);
}

const float* CudaBackend::vector_on_device(const Weight& w) {
    if (w.device_f32) return w.device_f32;
    if (w.f32.empty()) throw Error("weight " + w.name + " has no f32 values for the GPU");
    return constant(w.f32);
}

// ---- rows, products ----

void CudaBackend::get_rows(const Weight& table, const std::vector<int32_t>& ids, float scale, const Tensor& dst) {
    require(static_cast<int64_t>(ids.size()) == dst.rows && dst.cols == table.cols, "get_rows");
    for (int32_t id : ids) {
        if (id < 0 || id >= table.rows) {
            throw Error("token id " + std::to_string(id) + " is out of range for " + table.name + " (" +
                        std::to_string(table.rows) + " rows)");
        }
    }
    if (ids.empty()) return;
    if (table.device_data) {
        DeviceBuffer scratch;
        const void* d_ids = step_input(ids.data(), ids.size() * sizeof(int32_t), scratch);
        if (replaying("get_rows", {table.device_data, dst.data}, {dst.rows, dst.cols})) return;
        cuda::get_rows(view(table), static_cast<const int32_t*>(d_ids), static_cast<int64_t>(ids.size()), scale,
                       mat(dst), stream());
        return;
    }
    // A host-resident table (the per-layer embeddings): decode the few rows here, send them over.
    std::vector<float> rows(static_cast<size_t>(dst.rows * dst.cols));
    for (size_t t = 0; t < ids.size(); ++t) {
        float* out = rows.data() + t * static_cast<size_t>(dst.cols);
        dequantize_row(table.type, table.host + static_cast<size_t>(ids[t]) * table.row_bytes, out,
                       static_cast<uint64_t>(table.cols));
        if (scale != 1.0f)
            for (int64_t c = 0; c < dst.cols; ++c) out[c] *= scale;
    }
    DeviceBuffer scratch;
    const void* d_rows = step_input(rows.data(), rows.size() * sizeof(float), scratch);
    if (replaying("get_rows_host", {dst.data}, {dst.rows, dst.cols})) return;
    GD_CUDA(cudaMemcpy2DAsync(dst.data, static_cast<size_t>(dst.ld) * sizeof(float), d_rows,
                              static_cast<size_t>(dst.cols) * sizeof(float), static_cast<size_t>(dst.cols) * sizeof(float),
                              static_cast<size_t>(dst.rows), cudaMemcpyDeviceToDevice, stream()));
}

void CudaBackend::matmul(const Weight& w, const Tensor& x, const Tensor& y, int64_t expert) {
    if (x.cols != w.cols || y.cols != w.rows || x.rows != y.rows || expert < 0 || expert >= w.experts) {
        throw Error("matmul " + w.name + ": shapes do not fit (x " + std::to_string(x.rows) + "x" +
                    std::to_string(x.cols) + ", W " + std::to_string(w.rows) + "x" + std::to_string(w.cols) + ", y " +
                    std::to_string(y.rows) + "x" + std::to_string(y.cols) + ")");
    }
    if (x.rows == 0) return;
    if (replaying("matmul", {w.device_data, x.data, y.data}, {expert, x.rows})) return;
    cuda::matmul(state_->ctx, view(w), expert, mat(x), mat(y));
}

// ---- per-element and per-row ops ----

void CudaBackend::rms_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) {
    require(x.rows == y.rows && x.cols == y.cols && group > 0 && x.cols % group == 0 &&
                (!weight || weight->cols == group),
            "rms_norm");
    const float* wd = weight ? vector_on_device(*weight) : nullptr;
    if (replaying("rms_norm", {x.data, y.data, wd}, {x.rows, group})) return;
    cuda::rms_norm(mat(x), wd, group, eps, mat(y), stream());
}

void CudaBackend::layer_norm(const Tensor& x, const Weight* weight, int64_t group, float eps, const Tensor& y) {
    require(x.rows == y.rows && x.cols == y.cols && group > 0 && x.cols % group == 0 &&
                (!weight || weight->cols == group),
            "layer_norm");
    const float* wd = weight ? vector_on_device(*weight) : nullptr;
    if (replaying("layer_norm", {x.data, y.data, wd}, {x.rows, group})) return;
    cuda::layer_norm(mat(x), wd, group, eps, mat(y), stream());
}

void CudaBackend::rope(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq, int64_t first_position) {
    require(head_dim > 0 && head_dim % 2 == 0 && x.cols % head_dim == 0 &&
                static_cast<int64_t>(inv_freq.size()) == head_dim / 2,
            "rope");
    const float* f = constant(inv_freq);
    if (replaying("rope", {x.data, f}, {x.rows, head_dim})) return;
    cuda::rope(mat(x), head_dim, f, first_position, stream(), position_offset());
}

void CudaBackend::rope_2d(const Tensor& x, int64_t head_dim, const std::vector<float>& inv_freq,
                          const std::vector<int32_t>& pos_x, const std::vector<int32_t>& pos_y) {
    require(head_dim > 0 && head_dim % 4 == 0 && x.cols % head_dim == 0 &&
                static_cast<int64_t>(inv_freq.size()) == head_dim / 4 &&
                static_cast<int64_t>(pos_x.size()) == x.rows && static_cast<int64_t>(pos_y.size()) == x.rows,
            "rope_2d");
    constexpr int32_t kMaxPosition = 1 << 20;  // as the CPU backend: image grids are ~100 patches a side
    for (size_t i = 0; i < pos_x.size(); ++i) {
        if (pos_x[i] < 0 || pos_x[i] >= kMaxPosition || pos_y[i] < 0 || pos_y[i] >= kMaxPosition)
            throw Error("rope_2d: position outside 0.." + std::to_string(kMaxPosition - 1));
    }
    DeviceBuffer sx, sy;
    const void* px = step_input(pos_x.data(), pos_x.size() * sizeof(int32_t), sx);
    const void* py = step_input(pos_y.data(), pos_y.size() * sizeof(int32_t), sy);
    const float* f = constant(inv_freq);
    if (replaying("rope_2d", {x.data, f}, {x.rows})) return;
    cuda::rope_2d(mat(x), head_dim, f, static_cast<const int32_t*>(px), static_cast<const int32_t*>(py), stream());
}

void CudaBackend::gelu_mul(const Tensor& gate, const Tensor& up, const Tensor& out) {
    require(gate.rows == up.rows && gate.cols == up.cols && out.rows == gate.rows && out.cols == gate.cols, "gelu_mul");
    if (replaying("gelu_mul", {gate.data, up.data, out.data}, {out.rows, out.cols})) return;
    cuda::gelu_mul(mat(gate), mat(up), mat(out), stream());
}

void CudaBackend::add(const Tensor& a, const Tensor& b, const Tensor& out) {
    require(a.rows == b.rows && a.cols == b.cols && out.rows == a.rows && out.cols == a.cols, "add");
    if (replaying("add", {a.data, b.data, out.data}, {out.rows, out.cols})) return;
    cuda::add(mat(a), mat(b), mat(out), stream());
}

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
    require(src.rows == dst.rows && src.cols == dst.cols, "copy");
    if (replaying("copy", {src.data, dst.data}, {src.rows, src.cols})) return;
    GD_CUDA(cudaMemcpy2DAsync(dst.data, static_cast<size_t>(dst.ld) * sizeof(float), src.data,
                              static_cast<size_t>(src.ld) * sizeof(float), static_cast<size_t>(src.cols) * sizeof(float),
                              static_cast<size_t>(src.rows), cudaMemcpyDeviceToDevice, stream()));
}

void CudaBackend::scale(const Tensor& x, float s) {
    if (replaying("scale", {x.data}, {x.rows, x.cols})) return;
    cuda::scale(mat(x), s, stream());
}

void CudaBackend::mul_rows(const Tensor& x, const std::vector<float>& v) {
    require(static_cast<int64_t>(v.size()) == x.cols, "mul_rows");
    const float* d = constant(v);
    if (replaying("mul_rows", {x.data, d}, {x.rows})) return;
    cuda::mul_cols(mat(x), d, stream());
}

void CudaBackend::add_rows(const Tensor& x, const std::vector<float>& v) {
    require(static_cast<int64_t>(v.size()) == x.cols, "add_rows");
    const float* d = constant(v);
    if (replaying("add_rows", {x.data, d}, {x.rows})) return;
    cuda::add_cols(mat(x), d, stream());
}

void CudaBackend::softcap(const Tensor& x, float cap) {
    if (replaying("softcap", {x.data}, {x.rows, x.cols})) return;
    cuda::softcap(mat(x), cap, stream());
}

void CudaBackend::clamp(const Tensor& x, float lo, float hi, const Tensor& out) {
    require(x.rows == out.rows && x.cols == out.cols, "clamp");
    if (replaying("clamp", {x.data, out.data}, {out.rows})) return;
    cuda::clamp(mat(x), lo, hi, mat(out), stream());
}

void CudaBackend::relu(const Tensor& x) {
    if (replaying("relu", {x.data}, {x.rows})) return;
    cuda::relu(mat(x), stream());
}

void CudaBackend::silu(const Tensor& x) {
    if (replaying("silu", {x.data}, {x.rows})) return;
    cuda::silu(mat(x), stream());
}

void CudaBackend::glu(const Tensor& x, const Tensor& out) {
    require(x.rows == out.rows && x.cols == 2 * out.cols, "glu");
    if (replaying("glu", {x.data, out.data}, {out.rows})) return;
    cuda::glu(mat(x), mat(out), stream());
}

// ---- attention ----

void CudaBackend::kv_store(KvLayer& cache, const Tensor& k, const Tensor& v, int64_t first_position) {
    const int64_t row = cache.kv_heads * cache.head_dim;
    require(k.cols == row && v.cols == row && k.rows == v.rows && first_position >= 0 &&
                (cache.ring ? k.rows <= cache.capacity : first_position + k.rows <= cache.capacity),
            "kv_store");
    if (replaying("kv_store", {cache.k.data, k.data, v.data}, {k.rows, cache.capacity})) return;
    cuda::kv_store(kv_view(cache), mat(k), mat(v), first_position, stream(), position_offset());
}

void CudaBackend::attention(const Tensor& q, const KvLayer& cache, const AttentionParams& p, const Tensor& out) {
    check_attention(q, cache, p, out);
    std::vector<int64_t> blocks;
    for (const auto& [b, e] : p.blocks) {
        blocks.push_back(b);
        blocks.push_back(e);
    }
    DeviceBuffer scratch;
    const void* d_blocks = step_input(blocks.data(), blocks.size() * sizeof(int64_t), scratch);
    if (replaying("attention", {q.data, cache.k.data, out.data}, {q.rows, p.window, cache.capacity, static_cast<int64_t>(blocks.size())}))
        return;
    AttentionShape s;
    s.q_heads = p.q_heads;
    s.kv_heads = p.kv_heads;
    s.head_dim = p.head_dim;
    s.window = p.window;
    s.first_position = p.first_position;
    s.scale = p.scale;
    s.pos_offset = position_offset();
    cuda::attention(mat(q), kv_view(cache), s, static_cast<const int64_t*>(d_blocks),
                    static_cast<int64_t>(p.blocks.size()), mat(out), stream());
}

void CudaBackend::attention_dense(const Tensor& q, const Tensor& k, const Tensor& v, int64_t heads, int64_t head_dim,
                                  float scale, const Tensor& out) {
    require(q.cols == heads * head_dim && k.cols == q.cols && v.cols == q.cols && k.rows == v.rows &&
                out.rows == q.rows && out.cols == q.cols,
            "attention_dense");
    if (replaying("attention_dense", {q.data, out.data}, {q.rows})) return;
    cuda::attention_dense(mat(q), mat(k), mat(v), heads, head_dim, scale, mat(out), stream());
}

void CudaBackend::attention_local(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& rel, int64_t heads,
                                  int64_t head_dim, int64_t window, float cap, const Tensor& out) {
    require(q.cols == heads * head_dim && k.cols == q.cols && v.cols == q.cols && k.rows == q.rows &&
                v.rows == q.rows && rel.rows == window && rel.cols == q.cols && out.rows == q.rows &&
                out.cols == q.cols,
            "attention_local");
    if (replaying("attention_local", {q.data, out.data}, {q.rows})) return;
    cuda::attention_local(mat(q), mat(k), mat(v), mat(rel), heads, head_dim, window, cap, mat(out), stream());
}

// ---- towers ----

void CudaBackend::average_pool(const Tensor& x, int64_t grid_w, int64_t grid_h, int64_t k, const Tensor& out) {
    require(k > 0 && grid_w % k == 0 && grid_h % k == 0 && x.rows == grid_w * grid_h &&
                out.rows == (grid_w / k) * (grid_h / k) && out.cols == x.cols,
            "average_pool");
    if (replaying("average_pool", {x.data, out.data}, {x.rows})) return;
    cuda::average_pool(mat(x), grid_w, grid_h, k, mat(out), stream());
}

void CudaBackend::causal_depthwise_conv(const Tensor& x, const std::vector<float>& taps, int64_t K, const Tensor& out) {
    require(K > 0 && x.rows == out.rows && x.cols == out.cols && static_cast<int64_t>(taps.size()) == out.cols * K,
            "causal_depthwise_conv");
    const float* d = constant(taps);
    if (replaying("causal_depthwise_conv", {x.data, d, out.data}, {x.rows})) return;
    cuda::causal_depthwise_conv(mat(x), d, K, mat(out), stream());
}

// ---- mixture of experts ----

void CudaBackend::moe_route(const Tensor& logits, int64_t k, const Weight& expert_scale, const Tensor& routing) {
    require(routing.rows == logits.rows && routing.cols == 2 * k && expert_scale.cols == logits.cols && k > 0 &&
                k <= logits.cols,
            "moe_route");
    const float* es = vector_on_device(expert_scale);
    if (replaying("moe_route", {logits.data, routing.data, es}, {logits.rows, k})) return;
    cuda::moe_route(mat(logits), k, es, mat(routing), stream());
}

void CudaBackend::moe_experts(const Tensor& x, const ExpertRouting& r, const Weight& gate_up, const Weight& down,
                              const Tensor& out) {
    check_moe_experts(x, r, gate_up, down, out);
    const int64_t I = gate_up.rows / 2;
    if (mode_ == StepMode::Record || mode_ == StepMode::Replay) throw StepMismatch{};  // host uploads per expert
    // Tokens grouped by expert (ascending id, as the reference visits them): each selected expert's
    // weights are read once for all its tokens; the others are not touched.
    const auto slots_of_expert = slots_by_expert(r);
    GD_CUDA(cudaMemset2DAsync(out.data, static_cast<size_t>(out.ld) * sizeof(float), 0,
                              static_cast<size_t>(out.cols) * sizeof(float), static_cast<size_t>(out.rows), stream()));
    for (const auto& [e, slots] : slots_of_expert) {
        const int64_t n = static_cast<int64_t>(slots.size());
        std::vector<int32_t> tokens(static_cast<size_t>(n));
        std::vector<float> weights(static_cast<size_t>(n));
        for (int64_t j = 0; j < n; ++j) {
            tokens[static_cast<size_t>(j)] = static_cast<int32_t>(slots[static_cast<size_t>(j)] / r.k);
            weights[static_cast<size_t>(j)] = r.weights[static_cast<size_t>(slots[static_cast<size_t>(j)])];
        }
        DeviceBuffer d_tokens = upload_array(tokens.data(), tokens.size(), stream());
        DeviceBuffer d_weights = upload_array(weights.data(), weights.size(), stream());
        Tensor xe = alloc(n, x.cols), gu = alloc(n, 2 * I), h = alloc(n, I), y = alloc(n, out.cols);
        gather_rows(mat(x), d_tokens.get<int32_t>(), n, mat(xe), stream());
        matmul(gate_up, xe, gu, e);
        gelu_mul(gu.view_cols(0, I), gu.view_cols(I, I), h);
        matmul(down, h, y, e);
        // A token appears at most once per expert (top-k ids are distinct), so no row is hit twice.
        scatter_add_rows(mat(y), d_tokens.get<int32_t>(), d_weights.get<float>(), n, mat(out), stream());
    }
}

void CudaBackend::moe_experts_routed(const Tensor& x, const Tensor& routing, const Weight& gate_up, const Weight& down,
                                     const Tensor& out) {
    require(routing.cols % 2 == 0 && routing.rows == x.rows, "moe_experts");
    const int64_t k = routing.cols / 2;
    if (x.rows <= kMatvecMaxRows) {
        // Decode: the routing never leaves the device.
        require(gate_up.rows % 2 == 0 && gate_up.cols == x.cols && down.cols == gate_up.rows / 2 &&
                    down.rows == out.cols && gate_up.experts == down.experts && out.rows == x.rows,
                "moe_experts");
            if (replaying("moe_experts_few", {x.data, routing.data, gate_up.device_data, out.data}, {x.rows})) return;
        cuda::moe_experts_few(mat(x), mat(routing), k, view(gate_up), view(down), mat(out), stream());
        return;
    }
    // Prefill: the host groups the tokens by expert so each expert is one matrix product (a download:
    // never inside a recorded step, which has one token).
    std::vector<float> host(static_cast<size_t>(routing.elements()));
    download(routing, host.data());
    moe_experts(x, unpack_routing(host.data(), routing.rows, k), gate_up, down, out);
}

// ---- sampling ----

int32_t CudaBackend::sample_token(const Tensor& logits, const SamplingParams& p, const std::vector<int32_t>& recent,
                                  double uniform) {
    require(logits.rows == 1 && logits.cols > 0, "sample_token");
    Sampler check(p);  // validates the parameters as the host sampler does
    (void)check;
    const bool penalties = p.repetition_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
    size_t first = 0;
    if (penalties && p.penalty_window > 0 && recent.size() > static_cast<size_t>(p.penalty_window))
        first = recent.size() - static_cast<size_t>(p.penalty_window);
    const size_t n_recent = penalties ? recent.size() - first : 0;
    DeviceBuffer d_recent = upload_array(recent.data() + first, n_recent, stream());
    DeviceBuffer d_id(sizeof(int32_t), stream());
    cuda::sample(state_->ctx, mat(logits), p, d_recent.get<int32_t>(), static_cast<int64_t>(n_recent), uniform,
                 d_id.get<int32_t>());
    int32_t id = -1;
    GD_CUDA(cudaMemcpyAsync(&id, d_id.get(), sizeof id, cudaMemcpyDeviceToHost, stream()));
    GD_CUDA(cudaStreamSynchronize(stream()));
    if (id < 0 || id >= logits.cols) throw Error("the model produced no finite logit (all NaN or infinite)");
    return id;
}

float CudaBackend::log_softmax_at(const Tensor& logits, int32_t id) {
    require(logits.rows == 1 && id >= 0 && id < logits.cols, "log_softmax_at");
    DeviceBuffer d_id = upload_array(&id, 1, stream());
    DeviceBuffer d_out(sizeof(float), stream());
    cuda::log_softmax_at(mat(logits), d_id.get<int32_t>(), d_out.get<float>(), stream());
    float v = 0;
    GD_CUDA(cudaMemcpyAsync(&v, d_out.get(), sizeof v, cudaMemcpyDeviceToHost, stream()));
    GD_CUDA(cudaStreamSynchronize(stream()));
    return v;
}

// ---- recorded decode steps (cuda_graph_step.h) ----

bool CudaBackend::replaying(const char* op, std::initializer_list<const void*> ptrs, std::initializer_list<int64_t> dims) {
    if (mode_ != StepMode::Record && mode_ != StepMode::Replay) return false;
    // The op's signature: its name and the addresses and sizes it works on. Arena slices, weights and
    // the KV cache sit at the same addresses in every step, so a replay sees the recorded sequence.
    uint64_t h = 1469598103934665603ull;
    for (const char* c = op; *c; ++c) h = fnv(h, static_cast<uint64_t>(*c));
    for (const void* q : ptrs) h = fnv(h, reinterpret_cast<uintptr_t>(q));
    for (int64_t d : dims) h = fnv(h, static_cast<uint64_t>(d));
    if (mode_ == StepMode::Record) {
        current_->ops.push_back(h);
        return false;
    }
    if (op_cursor_ >= current_->ops.size() || current_->ops[op_cursor_] != h) throw StepMismatch{};
    ++op_cursor_;
    return true;
}

const void* CudaBackend::step_input(const void* host, size_t bytes, DeviceBuffer& scratch) {
    if (bytes == 0) return nullptr;
    if (mode_ != StepMode::Record && mode_ != StepMode::Replay) {
        scratch = DeviceBuffer(bytes, stream());
        GD_CUDA(cudaMemcpyAsync(scratch.get(), host, bytes, cudaMemcpyHostToDevice, stream()));
        return scratch.get();
    }
    const size_t at = (input_cursor_ + 15) / 16 * 16;
    if (at + bytes > kStepInputsBytes) throw StepMismatch{};
    std::memcpy(static_cast<uint8_t*>(inputs_host_.get()) + at, host, bytes);
    input_cursor_ = at + bytes;
    return static_cast<const uint8_t*>(inputs_device_.get()) + at;
}

const int64_t* CudaBackend::position_offset() const {
    if (mode_ != StepMode::Record && mode_ != StepMode::Replay) return nullptr;
    return static_cast<const int64_t*>(inputs_device_.get());
}

void CudaBackend::launch_step(const StepGraph& g) {
    // Pinned source: the copy is queued, not staged; the host writes the buffer again only in the
    // next step, after sample_token has waited for this one.
    GD_CUDA(cudaMemcpyAsync(inputs_device_.get(), inputs_host_.get(), g.inputs_bytes, cudaMemcpyHostToDevice, stream()));
    GD_CUDA(cudaGraphLaunch(g.exec, stream()));
}

Tensor CudaBackend::step_in_mode(StepMode mode, const std::function<Tensor()>& step) {
    mode_ = mode;
    try {
        Tensor out = step();
        mode_ = StepMode::Eager;
        return out;
    } catch (...) {
        mode_ = StepMode::Eager;
        throw;
    }
}

Tensor CudaBackend::record_step(StepGraph& g, int64_t position, const std::function<Tensor()>& step) {
    if (!inputs_host_) {
        void* h = nullptr;
        GD_CUDA(cudaHostAlloc(&h, kStepInputsBytes, cudaHostAllocDefault));
        inputs_host_ = std::shared_ptr<void>(h, [](void* q) { cudaFreeHost(q); });
        void* d = nullptr;
        GD_CUDA(cudaMalloc(&d, kStepInputsBytes));
        inputs_device_ = std::shared_ptr<void>(d, [](void* q) { cudaFree(q); });
    }
    if (!g.arena) {
        void* a = nullptr;
        GD_CUDA(cudaMalloc(&a, std::max<uint64_t>(g.arena_bytes, 256)));
        g.arena = std::shared_ptr<void>(a, [](void* q) { cudaFree(q); });
    }
    // Nothing of an earlier step may still read the staging buffer the recording starts filling.
    GD_CUDA(cudaStreamSynchronize(stream()));
    g.ops.clear();
    g.base_position = position;
    std::memset(inputs_host_.get(), 0, kStepInputsHeader);  // position offset 0
    current_ = &g;
    arena_cursor_ = 0;
    input_cursor_ = kStepInputsHeader;
    GD_CUDA(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal));
    Tensor out;
    cudaGraph_t graph = nullptr;
    try {
        out = step_in_mode(StepMode::Record, step);
    } catch (...) {
        cudaStreamEndCapture(stream(), &graph);
        if (graph) cudaGraphDestroy(graph);
        cudaGetLastError();
        throw;
    }
    GD_CUDA(cudaStreamEndCapture(stream(), &graph));
    const cudaError_t err = cudaGraphInstantiate(&g.exec, graph, 0);
    cudaGraphDestroy(graph);
    GD_CUDA(err);
    g.inputs_bytes = input_cursor_;
    g.state = StepGraph::State::Ready;
    launch_step(g);
    return out;
}

Tensor CudaBackend::replay_step(StepGraph& g, int64_t position, const std::function<Tensor()>& step) {
    GD_CUDA(cudaStreamSynchronize(stream()));  // the previous replay has read the staging buffer
    const int64_t offset = position - g.base_position;
    std::memcpy(inputs_host_.get(), &offset, sizeof offset);
    current_ = &g;
    arena_cursor_ = 0;
    input_cursor_ = kStepInputsHeader;
    op_cursor_ = 0;
    Tensor out = step_in_mode(StepMode::Replay, step);
    if (op_cursor_ != g.ops.size() || input_cursor_ != g.inputs_bytes) {
        // The step's host code has already moved on (its cache length): it cannot be run again.
        g.state = StepGraph::State::Failed;
        throw Error("a recorded decode step was replayed with fewer ops than recorded (a bug): the step was not run");
    }
    launch_step(g);
    ++steps_replayed_;
    return out;
}

Tensor CudaBackend::run_decode_step(const void* key, int64_t position, const std::function<Tensor()>& step) {
    if (!graphs_enabled_ || mode_ != StepMode::Eager) return step();
    if (graphs_.size() > 32 && !graphs_.count(key)) graphs_.clear();  // sessions come and go
    std::unique_ptr<StepGraph>& slot = graphs_[key];
    if (!slot) slot = std::make_unique<StepGraph>();
    StepGraph& g = *slot;
    switch (g.state) {
        case StepGraph::State::Failed:
            return step();
        case StepGraph::State::New: {
            // Eager, counting the allocations the arena must hold; also makes every constant resident.
            measured_bytes_ = 0;
            Tensor out = step_in_mode(StepMode::Measure, step);
            g.arena_bytes = measured_bytes_;
            g.state = StepGraph::State::Measured;
            return out;
        }
        case StepGraph::State::Measured:
        case StepGraph::State::Ready:
            break;
    }
    // A step that cannot be recorded or replayed throws StepMismatch from inside its ops, before the
    // host code past them (the cache's length) moved: it then runs eagerly, and the key stays eager.
    const bool recording = g.state != StepGraph::State::Ready;
    try {
        return recording ? record_step(g, position, step) : replay_step(g, position, step);
    } catch (const Cancelled&) {
        throw;
    } catch (const StepMismatch&) {
        g.state = StepGraph::State::Failed;
        return step();
    } catch (const Error&) {
        if (!recording) throw;
        // The driver refused the capture (a library call that cannot be recorded): stay eager.
        g.state = StepGraph::State::Failed;
        return step();
    }
}

}  // namespace cuda
}  // namespace gd
