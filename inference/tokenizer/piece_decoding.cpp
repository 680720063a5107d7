#include "tokenizer/piece_decoding.h"

#include <cstdio>

#include "tokenizer/utf8.h"

namespace gd {

namespace {

constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

// tokenizers' ByteFallback decoder: a piece of 6 bytes "<0x..>" whose two characters parse as a
// base-16 u8 (Rust's from_str_radix, which also takes a leading '+').
int byte_piece_value(std::string_view p) {
    if (p.size() != 6 || p.substr(0, 3) != "<0x" || p[5] != '>') return -1;
    if (p[3] == '+') return hex_digit(p[4]);
    const int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

std::string byte_piece(unsigned b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b & 0xFFu);
    return buf;
}

std::string decode_pieces(const std::vector<int32_t>& ids, const std::function<const std::string&(int32_t)>& piece) {
    std::string out;
    std::string bytes;  // a pending run of byte tokens
    auto flush = [&] {
        if (bytes.empty()) return;
        if (valid_utf8(bytes)) {
            out += bytes;
        } else {
            for (size_t k = 0; k < bytes.size(); ++k) out += kReplacement;
        }
        bytes.clear();
    };
    std::string s;
    for (int32_t id : ids) {
        const std::string& p = piece(id);
        s.clear();
        // Replace "\u2581" with " " in every piece, then ByteFallback on the result.
        for (size_t k = 0; k < p.size();) {
            if (p.compare(k, kSpaceMark.size(), kSpaceMark) == 0) {
                s += ' ';
                k += kSpaceMark.size();
            } else {
                s += p[k++];
            }
        }
        const int b = byte_piece_value(s);
        if (b >= 0) {
            bytes += static_cast<char>(b);
        } else {
            flush();
            out += s;
        }
    }
    flush();
    return out;
}

}  // namespace gd
