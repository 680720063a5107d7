#pragma once
// A small open-addressing hash map from 64-bit keys (never ~0) to trivially copyable values, for
// the tokenizer's hot lookups (merge pairs, single characters). Insert-or-replace and find only.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gd {

template <class V>
class FlatU64Map {
public:
    void reserve(size_t n) {
        size_t cap = 16;
        while (cap < n * 2) cap <<= 1;
        if (cap > keys_.size()) rehash(cap);
    }
    void insert_or_assign(uint64_t key, const V& v) {
        if ((size_ + 1) * 2 > keys_.size()) rehash(keys_.empty() ? 16 : keys_.size() * 2);
        size_t i = slot(key);
        while (keys_[i] != kEmpty && keys_[i] != key) i = (i + 1) & mask_;
        if (keys_[i] == kEmpty) ++size_;
        keys_[i] = key;
        values_[i] = v;
    }
    const V* find(uint64_t key) const {
        if (keys_.empty()) return nullptr;
        for (size_t i = slot(key);; i = (i + 1) & mask_) {
            if (keys_[i] == key) return &values_[i];
            if (keys_[i] == kEmpty) return nullptr;
        }
    }
    size_t size() const { return size_; }

private:
    static constexpr uint64_t kEmpty = ~uint64_t{0};
    size_t slot(uint64_t key) const {
        return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_) & mask_;
    }
    void rehash(size_t cap) {
        std::vector<uint64_t> old_keys(cap, kEmpty);
        std::vector<V> old_values(cap);
        old_keys.swap(keys_);
        old_values.swap(values_);
        mask_ = cap - 1;
        shift_ = 64;
        for (size_t c = cap; c > 1; c >>= 1) --shift_;
        size_ = 0;
        for (size_t i = 0; i < old_keys.size(); ++i)
            if (old_keys[i] != kEmpty) insert_or_assign(old_keys[i], old_values[i]);
    }

    std::vector<uint64_t> keys_;
    std::vector<V> values_;
    size_t mask_ = 0;
    unsigned shift_ = 64;
    size_t size_ = 0;
};

}  // namespace gd
