#include "engine/load_quantizer.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/error.h"
#include "format/quant/quant.h"
#include "format/storage_type.h"

namespace gd {

namespace {
bool plain_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }
}  // namespace

LoadQuantization quantize_while_loading(ModelFiles& files, DType type, int threads, const QuantizeProgress& progress) {
    if (!can_quantize(type) || dtype_info(type).block_elems == 1) {
        throw Error(std::string("cannot quantize to ") + dtype_name(type) + " while loading (q8_0, q4_k, q5_k, q6_k, ...)");
    }
    struct Job {
        const ModelTensor* t;
        DType to;
        uint64_t rows, cols;
    };
    std::vector<Job> jobs;
    uint64_t total_rows = 0;
    for (const ModelTensor& t : files.tensors()) {
        if (t.spec.in_mmproj || !part_is_text(t.spec.part)) continue;
        if (!plain_float(t.view.type) || t.view.shape.size() < 2) continue;
        const DType to = gguf_storage_type(t.spec.name, t.view.shape, type);
        if (dtype_info(to).block_elems == 1) continue;  // stays a plain type by the rule
        const uint64_t cols = t.view.shape.back();
        jobs.push_back({&t, to, t.view.elements() / cols, cols});
        total_rows += t.view.elements() / cols;
    }
    LoadQuantization out;
    const unsigned n_threads = threads > 0 ? static_cast<unsigned>(threads) : std::max(1u, std::thread::hardware_concurrency());
    std::atomic<uint64_t> rows_done{0};
    for (const Job& j : jobs) {
        const uint64_t row_out = dtype_bytes(j.to, j.cols), row_in = dtype_bytes(j.t->view.type, j.cols);
        auto buffer = std::make_unique<uint8_t[]>(static_cast<size_t>(row_out * j.rows));
        const uint8_t* src = j.t->view.data;
        uint8_t* dst = buffer.get();
        std::atomic<uint64_t> next{0};
        auto work = [&] {
            std::vector<float> row(static_cast<size_t>(j.cols));
            constexpr uint64_t kBatch = 64;  // rows per grab: little contention, even shares
            for (uint64_t r0 = next.fetch_add(kBatch); r0 < j.rows; r0 = next.fetch_add(kBatch)) {
                for (uint64_t r = r0; r < std::min(j.rows, r0 + kBatch); ++r) {
                    dequantize_row(j.t->view.type, src + r * row_in, row.data(), j.cols);
                    quantize_row(j.to, row.data(), dst + r * row_out, j.cols);
                }
            }
        };
        std::vector<std::thread> pool;
        for (unsigned i = 1; i < n_threads; ++i) pool.emplace_back(work);
        work();
        for (std::thread& th : pool) th.join();
        rows_done += j.rows;
        out.bytes_in += j.t->view.nbytes;
        out.bytes_out += row_out * j.rows;
        ++out.tensors;
        files.replace_view(j.t->spec.name, j.to, dst, row_out * j.rows);
        out.buffers.push_back(std::move(buffer));
        if (progress && !progress(static_cast<double>(rows_done.load()) / static_cast<double>(std::max<uint64_t>(1, total_rows))))
            throw Cancelled("loading cancelled");
    }
    return out;
}

}  // namespace gd
