#pragma once
// Overflow-checked integer arithmetic for parsers of untrusted files: every offset, count and size
// read from a file goes through these before it is used.
#include <cstdint>
#include <string>

#include "common/error.h"

namespace gd {

inline uint64_t checked_add(uint64_t a, uint64_t b, const char* what) {
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) throw FormatError(std::string("integer overflow computing ") + what);
    return r;
}

inline uint64_t checked_mul(uint64_t a, uint64_t b, const char* what) {
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) throw FormatError(std::string("integer overflow computing ") + what);
    return r;
}

// Rounds `v` up to a multiple of `align` (align > 0), checking for overflow.
inline uint64_t checked_align_up(uint64_t v, uint64_t align, const char* what) {
    const uint64_t rem = v % align;
    return rem == 0 ? v : checked_add(v, align - rem, what);
}

}  // namespace gd
