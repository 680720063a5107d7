#include "backend/attention_checks.h"

#include "common/error.h"

namespace gd {

void check_attention(const Tensor& q, const KvLayer& cache, const AttentionParams& p, const Tensor& out) {
    const int64_t d = p.head_dim, T = q.rows;
    if (q.cols != p.q_heads * d || out.cols != q.cols || out.rows != q.rows || p.kv_heads != cache.kv_heads ||
        d != cache.head_dim || p.kv_heads <= 0 || p.q_heads % p.kv_heads != 0) {
        throw Error("attention: shapes do not fit");
    }
    if (cache.ring && (p.window <= 0 || p.window > cache.capacity)) throw Error("attention: window larger than the ring");
    if (!cache.ring && p.first_position + T > cache.capacity) throw Error("attention: positions beyond the KV cache");
    if (cache.ring && !p.blocks.empty() && p.window + T - 1 > cache.capacity) {
        throw Error("attention: a bidirectional block needs more of the sliding-window ring than it holds");
    }
    for (const auto& [first, end] : p.blocks) {
        if (first < p.first_position || end > p.first_position + T || first >= end) {
            throw Error("attention: a bidirectional block lies outside this call's rows");
        }
    }
}

}  // namespace gd
