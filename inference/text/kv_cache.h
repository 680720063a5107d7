#pragma once
// The KV cache of one sequence (spec §2.14): K/V only for KV-owning layers; full-attention layers
// keep every position up to the context length, sliding layers a ring of window + chunk - 1 slots;
// KV-shared layers read their donor's entries. K is stored after k_norm and RoPE, V after its
// weight-less norm, as the reference caches them.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>
#include "backend/backend.h"
#include "model/model_config.h"

namespace gd {

class KvCache {
public:
    KvCache() = default;
    // `context`: the most positions this sequence may hold; `max_chunk`: the most tokens one forward
    // call processes at once (decides the sliding rings' size).
    KvCache(Backend& backend, const TextConfig& c, int64_t context, int64_t max_chunk);
    // The same with each layer's K/V on the backend that runs that layer (a model split over devices).
    KvCache(const std::function<Backend&(int64_t layer)>& backend_of_layer, const TextConfig& c, int64_t context,
            int64_t max_chunk);

    int64_t context() const { return context_; }
    int64_t max_chunk() const { return max_chunk_; }
    int64_t length() const { return length_; }   // positions filled: the next token is at length()
    void set_length(int64_t n) {
        length_ = n;
        written_end_ = std::max(written_end_, n);
    }
    // A forward call is about to store positions up to `end` (exclusive). If it stops part way
    // (cancel, error), the rings may already hold those positions in place of older ones.
    void note_writing(int64_t end) { written_end_ = std::max(written_end_, end); }
    // Whether the cache can go back to `n` positions (drop the rest) and continue from there: full
    // layers always can; a sliding ring only while it still holds the window before position n.
    bool can_rewind_to(int64_t n) const;
    void clear() { length_ = written_end_ = 0; }

    KvLayer& layer(int64_t i) { return layers_[static_cast<size_t>(i)]; }        // KV-owning layers only
    const KvLayer& source(int64_t i) const { return layers_[static_cast<size_t>(source_[static_cast<size_t>(i)])]; }
    uint64_t bytes() const { return bytes_; }

private:
    std::vector<KvLayer> layers_;
    std::vector<int64_t> source_;  // layer -> the layer whose cache it reads
    int64_t context_ = 0, max_chunk_ = 0, length_ = 0, window_ = 0;
    int64_t written_end_ = 0;    // highest position any layer has stored since the last rewind past it
    int64_t ring_capacity_ = 0;  // slots of the sliding rings; 0 when no layer needs one
    uint64_t bytes_ = 0;
};

}  // namespace gd
