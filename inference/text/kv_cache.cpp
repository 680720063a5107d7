#include "text/kv_cache.h"

#include <algorithm>

#include "common/error.h"

namespace gd {

KvCache::KvCache(Backend& backend, const TextConfig& c, int64_t context, int64_t max_chunk)
    : KvCache([&backend](int64_t) -> Backend& { return backend; }, c, context, max_chunk) {}

KvCache::KvCache(const std::function<Backend&(int64_t layer)>& backend_of_layer, const TextConfig& c, int64_t context,
                 int64_t max_chunk)
    : context_(context), max_chunk_(std::max<int64_t>(1, std::min(max_chunk, context))), window_(c.sliding_window) {
    if (context <= 0) throw Error("the context length must be positive");
    layers_.resize(static_cast<size_t>(c.num_layers));
    source_.resize(static_cast<size_t>(c.num_layers));
    for (int64_t i = 0; i < c.num_layers; ++i) {
        source_[static_cast<size_t>(i)] = c.kv_source_layer(i);
        if (c.is_kv_shared(i)) continue;
        KvLayer& l = layers_[static_cast<size_t>(i)];
        l.kv_heads = c.layer_kv_heads(i);
        l.head_dim = c.layer_head_dim(i);
        l.capacity = context;
        if (!c.is_full(i)) {
            const int64_t ring = c.sliding_window + max_chunk_ - 1;
            if (ring < context) {
                l.capacity = ring;
                l.ring = true;
                ring_capacity_ = ring;
            }
        }
        Backend& backend = backend_of_layer(i);
        l.k = backend.alloc(l.capacity, l.kv_heads * l.head_dim);
        l.v = backend.alloc(l.capacity, l.kv_heads * l.head_dim);
        bytes_ += 2 * static_cast<uint64_t>(l.capacity) * static_cast<uint64_t>(l.kv_heads * l.head_dim) * sizeof(float);
    }
}

bool KvCache::can_rewind_to(int64_t n) const {
    if (n < 0 || n > length_) return false;
    if (ring_capacity_ == 0 || n == 0) return true;
    // The ring holds positions [end - capacity, end), end being the furthest any layer has written (a
    // stopped chunk may have gone past length); continuing at n needs [n - W + 1, n).
    return n - window_ + 1 >= std::max(length_, written_end_) - ring_capacity_;
}

}  // namespace gd
