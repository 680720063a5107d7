#include "common/media_embedding.h"

#include <cstring>

namespace gd {

uint64_t media_content_key(const MediaEmbedding& m) {
    uint64_t h = 1469598103934665603ull;
    auto mix = [&h](const void* p, size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i) {
            h ^= b[i];
            h *= 1099511628211ull;
        }
    };
    const int64_t shape[3] = {static_cast<int64_t>(m.kind), m.tokens, m.width};
    mix(shape, sizeof shape);
    mix(m.data.data(), m.data.size() * sizeof(float));
    return h;
}

}  // namespace gd
