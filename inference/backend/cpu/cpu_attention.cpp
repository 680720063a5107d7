// KV cache writes and attention for the CPU backend. One task per (query row, head): scores over the
// visible keys (dot products), a f32 softmax, then the weighted sum of values. Keys and values are
// read from the cache by position: slot = position for full layers, position % capacity for the
// sliding layers' ring. A query inside a bidirectional block also sees the block's later keys, which
// this call has already stored.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "backend/attention_checks.h"
#include "backend/cpu/cpu_backend.h"
#include "common/error.h"

namespace gd::cpu {

namespace {
inline int64_t slot_of(const KvLayer& c, int64_t pos) { return c.ring ? pos % c.capacity : pos; }
}  // namespace

void CpuBackend::kv_store(KvLayer& cache, const Tensor& k, const Tensor& v, int64_t first_position) {
    const int64_t width = cache.kv_heads * cache.head_dim;
    if (k.cols != width || v.cols != width || k.rows != v.rows) throw Error("kv_store: K/V rows do not fit the cache");
    if (!cache.ring && first_position + k.rows > cache.capacity) throw Error("kv_store: the KV cache is full");
    if (cache.ring && k.rows > cache.capacity) throw Error("kv_store: chunk longer than the sliding-window ring");
    for (int64_t t = 0; t < k.rows; ++t) {
        const int64_t s = slot_of(cache, first_position + t);
        std::memcpy(cache.k.row(s), k.row(t), sizeof(float) * static_cast<size_t>(width));
        std::memcpy(cache.v.row(s), v.row(t), sizeof(float) * static_cast<size_t>(width));
    }
}

void CpuBackend::attention(const Tensor& q, const KvLayer& cache, const AttentionParams& p, const Tensor& out) {
    check_attention(q, cache, p, out);  // before the tasks: an exception must not escape a worker thread
    const int64_t d = p.head_dim;
    const int64_t group = p.q_heads / p.kv_heads;  // query heads per KV head, contiguous (repeat_kv)
    const int64_t T = q.rows;
    // Last visible key per row: the row itself, or the end of its bidirectional block.
    std::vector<int64_t> last_key(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) last_key[static_cast<size_t>(t)] = p.first_position + t;
    for (const auto& [first, end] : p.blocks) {
        for (int64_t i = first; i < end; ++i) last_key[static_cast<size_t>(i - p.first_position)] = end - 1;
    }
    const Isa isa = isa_;
    pool_.parallel_for(T * p.q_heads, 1, [&](int64_t b, int64_t e, int) {
        std::vector<float> scores;
        for (int64_t task = b; task < e; ++task) {
            const int64_t t = task / p.q_heads, h = task % p.q_heads, kvh = h / group;
            const int64_t i = p.first_position + t;
            const int64_t lo = p.window > 0 ? std::max<int64_t>(0, i - p.window + 1) : 0;
            const int64_t n = last_key[static_cast<size_t>(t)] - lo + 1;
            scores.resize(static_cast<size_t>(n));
            const float* qv = q.row(t) + h * d;
            float mx = -std::numeric_limits<float>::infinity();
            for (int64_t j = 0; j < n; ++j) {
                const float* kv = cache.k.row(slot_of(cache, lo + j)) + kvh * d;
                const float s = dot_f32(isa, qv, kv, d) * p.scale;
                scores[static_cast<size_t>(j)] = s;
                mx = std::max(mx, s);
            }
            double sum = 0.0;
            for (int64_t j = 0; j < n; ++j) {
                const float ex = std::exp(scores[static_cast<size_t>(j)] - mx);
                scores[static_cast<size_t>(j)] = ex;
                sum += ex;
            }
            const float inv = static_cast<float>(1.0 / sum);
            float* o = out.row(t) + h * d;
            std::fill(o, o + d, 0.0f);
            for (int64_t j = 0; j < n; ++j) {
                const float* vv = cache.v.row(slot_of(cache, lo + j)) + kvh * d;
                axpy_f32(isa, scores[static_cast<size_t>(j)] * inv, vv, o, d);
            }
        }
    });
}

}  // namespace gd::cpu
