#include "backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "backend/weight_shape.h"
#include "common/error.h"
#include "format/quant/quant.h"

namespace gd {

Tensor Tensor::view_rows(int64_t first, int64_t count) const {
    if (first < 0 || count < 0 || first + count > rows) throw Error("tensor row view out of range");
    Tensor t = *this;
    t.data = data + first * ld;
    t.rows = count;
    return t;
}

Tensor Tensor::view_cols(int64_t first, int64_t count) const {
    if (first < 0 || count < 0 || first + count > cols) throw Error("tensor column view out of range");
    Tensor t = *this;
    t.data = data + first;
    t.cols = count;
    return t;
}

std::unique_ptr<Backend> make_cpu_backend(int threads) {
    return std::make_unique<cpu::CpuBackend>(threads);
}

namespace cpu {

namespace {
int default_threads() {
    const unsigned n = std::thread::hardware_concurrency();
    return n ? static_cast<int>(n) : 1;
}
}  // namespace

CpuBackend::CpuBackend(int threads)
    : pool_(threads > 0 ? threads : default_threads()),
      isa_(detected_isa()),
      live_bytes_(std::make_shared<std::atomic<uint64_t>>(0)),
      peak_bytes_(std::make_shared<std::atomic<uint64_t>>(0)) {}

std::string CpuBackend::name() const {
    return std::string("cpu (") + isa_name(isa_) + ", " + std::to_string(pool_.size()) + " threads)";
}

void CpuBackend::for_rows(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    pool_.parallel_for(n, grain, [&](int64_t b, int64_t e, int) { fn(b, e); });
}

Tensor CpuBackend::alloc(int64_t rows, int64_t cols) {
    if (rows < 0 || cols < 0) throw Error("negative tensor size");
    const uint64_t n = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
    if (cols != 0 && n / static_cast<uint64_t>(cols) != static_cast<uint64_t>(rows)) throw Error("tensor size overflows");
    const uint64_t bytes = std::max<uint64_t>(64, (n * sizeof(float) + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, bytes);
    if (!p) throw Error("out of memory: could not allocate " + std::to_string(bytes >> 20) + " MiB for activations");
    std::memset(p, 0, bytes);
    const uint64_t now = live_bytes_->fetch_add(bytes) + bytes;
    uint64_t peak = peak_bytes_->load();
    while (now > peak && !peak_bytes_->compare_exchange_weak(peak, now)) {}
    auto live = live_bytes_;
    Tensor t;
    t.storage = std::shared_ptr<void>(p, [live, bytes](void* q) {
        live->fetch_sub(bytes);
        std::free(q);
    });
    t.data = static_cast<float*>(p);
    t.rows = rows;
    t.cols = cols;
    t.ld = cols;
    t.device = DeviceKind::Cpu;
    return t;
}

void CpuBackend::upload(const float* host, const Tensor& dst) {
    for (int64_t r = 0; r < dst.rows; ++r) std::memcpy(dst.row(r), host + r * dst.cols, sizeof(float) * dst.cols);
}

void CpuBackend::download(const Tensor& src, float* host) {
    for (int64_t r = 0; r < src.rows; ++r) std::memcpy(host + r * src.cols, src.row(r), sizeof(float) * src.cols);
}

Weight CpuBackend::upload_weight(const TensorView& view, WeightPlacement) {
    Weight w = describe_weight(view);  // in host memory either way: used in place from the mapping
    w.host = view.data;
    w.device_data = view.data;
    weight_bytes_ += view.nbytes;
    return w;
}

BackendStats CpuBackend::stats() const {
    BackendStats s;
    s.weight_bytes = weight_bytes_;
    s.buffer_bytes = live_bytes_->load();
    s.peak_buffer_bytes = peak_bytes_->load();
    return s;
}

void CpuBackend::get_rows(const Weight& table, const std::vector<int32_t>& ids, float scale, const Tensor& dst) {
    if (static_cast<int64_t>(ids.size()) != dst.rows || dst.cols != table.cols) throw Error("get_rows: shape mismatch");
    for (int32_t id : ids) {
        if (id < 0 || id >= table.rows) {
            throw Error("token id " + std::to_string(id) + " is out of range for " + table.name + " (" +
                        std::to_string(table.rows) + " rows)");
        }
    }
    for_rows(dst.rows, 1, [&](int64_t b, int64_t e) {
        for (int64_t t = b; t < e; ++t) {
            float* out = dst.row(t);
            dequantize_row(table.type, table.host + static_cast<size_t>(ids[static_cast<size_t>(t)]) * table.row_bytes,
                           out, static_cast<uint64_t>(table.cols));
            if (scale != 1.0f)
                for (int64_t c = 0; c < dst.cols; ++c) out[c] *= scale;
        }
    });
}

void CpuBackend::matmul(const Weight& w, const Tensor& x, const Tensor& y, int64_t expert) {
    if (x.cols != w.cols || y.cols != w.rows || x.rows != y.rows || expert < 0 || expert >= w.experts) {
        throw Error("matmul " + w.name + ": shapes do not fit (x " + std::to_string(x.rows) + "x" +
                    std::to_string(x.cols) + ", W " + std::to_string(w.rows) + "x" + std::to_string(w.cols) + ", y " +
                    std::to_string(y.rows) + "x" + std::to_string(y.cols) + ")");
    }
    if (x.rows == 0) return;
    const uint8_t* base = w.host + static_cast<size_t>(expert) * static_cast<size_t>(w.rows) * w.row_bytes;
    // Rows per task: enough work per chunk to amortise the kernel's tile setup, small enough to
    // balance the threads.
    const int64_t grain = x.rows == 1 ? 16 : 32;
    const Isa isa = isa_;
    pool_.parallel_for(w.rows, grain, [&](int64_t n0, int64_t n1, int) {
        matmul_rows(isa, w.type, base, w.row_bytes, w.cols, x.data, x.ld, x.rows, y.data, y.ld, n0, n1);
    });
}

}  // namespace cpu
}  // namespace gd
