#pragma once
// UTF-8 validity as Rust (and so Hugging Face `tokenizers`) defines it: no overlong forms, no UTF-16
// surrogates, nothing above U+10FFFF. The tokenizers use it to tell characters from stray bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gd {

// Length of the valid UTF-8 character at s[i] (i < s.size()), or 0 when the bytes there are not one.
inline size_t utf8_char_len(std::string_view s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
    const uint8_t c = b(i);
    const size_t left = s.size() - i;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return left >= 2 && (b(i + 1) & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3) return 0;
        const uint8_t c1 = b(i + 1);
        const uint8_t lo = c == 0xE0 ? 0xA0 : 0x80;
        const uint8_t hi = c == 0xED ? 0x9F : 0xBF;
        if (c1 < lo || c1 > hi || (b(i + 2) & 0xC0) != 0x80) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4) return 0;
        const uint8_t c1 = b(i + 1);
        const uint8_t lo = c == 0xF0 ? 0x90 : 0x80;
        const uint8_t hi = c == 0xF4 ? 0x8F : 0xBF;
        if (c1 < lo || c1 > hi || (b(i + 2) & 0xC0) != 0x80 || (b(i + 3) & 0xC0) != 0x80) return 0;
        return 4;
    }
    return 0;
}

inline bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        const size_t n = utf8_char_len(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace gd
