// A small GIF decoder: the first frame only (what the reference, PIL, shows for an animation too),
// with bounded work and memory: the canvas is allocated once at its checked size, the LZW table
// has at most 4096 entries, and every byte read is bounds-checked.
#include <algorithm>
#include <cstring>
#include <vector>

#include "vision/image/gif_decode.h"
#include "vision/image/image_format.h"

namespace gd::image_detail {

namespace {

// Skips a chain of data sub-blocks (length byte, bytes..., ended by a zero length).
bool skip_sub_blocks(const uint8_t* d, size_t n, size_t& off) {
    while (off < n) {
        const size_t len = d[off++];
        if (len == 0) return true;
        if (len > n - off) return false;
        off += len;
    }
    return false;
}

// LSB-first codes read across the sub-blocks of the image data.
class CodeReader {
public:
    CodeReader(const uint8_t* d, size_t n, size_t off) : d_(d), n_(n), off_(off) {}

    // False when the data ends (no more sub-blocks, or the file is cut).
    bool read(int bits, int& code) {
        while (have_ < bits) {
            if (block_left_ == 0) {
                if (ended_ || off_ >= n_) return false;
                block_left_ = d_[off_++];
                if (block_left_ == 0) {
                    ended_ = true;
                    return false;
                }
            }
            if (off_ >= n_) return false;
            acc_ |= uint32_t(d_[off_++]) << have_;
            have_ += 8;
            --block_left_;
        }
        code = int(acc_ & ((1u << bits) - 1));
        acc_ >>= bits;
        have_ -= bits;
        return true;
    }

private:
    const uint8_t* d_;
    size_t n_, off_;
    uint32_t acc_ = 0;
    int have_ = 0;
    size_t block_left_ = 0;
    bool ended_ = false;
};

// LZW with GIF's variable code width (min_code_size + 1 .. 12 bits). Writes at most out.size()
// indices; returns how many were written.
size_t lzw_decode(const uint8_t* d, size_t n, size_t off, int min_code_size, std::vector<uint8_t>& out) {
    constexpr int kMaxCodes = 4096;
    const int clear = 1 << min_code_size, end = clear + 1;
    std::vector<uint16_t> prefix(kMaxCodes);
    std::vector<uint8_t> suffix(kMaxCodes), first(kMaxCodes);
    std::vector<uint16_t> length(kMaxCodes);
    for (int i = 0; i < clear; ++i) {
        suffix[size_t(i)] = first[size_t(i)] = uint8_t(i);
        length[size_t(i)] = 1;
    }
    CodeReader reader(d, n, off);
    int width = min_code_size + 1, next = end + 1, prev = -1;
    size_t pos = 0;
    const size_t total = out.size();
    // Writes the string of `code` at pos (clipped at the frame's end); strings are stored as
    // prefix chains, so they are written back to front.
    auto emit = [&](int code) {
        const size_t len = length[size_t(code)];
        size_t end_pos = pos + len;
        int c = code;
        for (size_t k = end_pos; k > pos; --k) {
            if (k - 1 < total) out[k - 1] = suffix[size_t(c)];
            c = prefix[size_t(c)];
        }
        pos = std::min(end_pos, total);
    };
    int code = 0;
    while (pos < total && reader.read(width, code)) {
        if (code == clear) {
            width = min_code_size + 1;
            next = end + 1;
            prev = -1;
            continue;
        }
        if (code == end) break;
        if (prev < 0) {
            if (code >= clear) return pos;  // the first code after a clear must be a single index
            emit(code);
            prev = code;
            continue;
        }
        int first_of_new;
        if (code < next) {
            first_of_new = first[size_t(code)];
        } else if (code == next && next < kMaxCodes) {
            first_of_new = first[size_t(prev)];  // the KwKwK case: prev's string + its own first index
        } else {
            return pos;  // a code the encoder cannot have produced
        }
        if (next < kMaxCodes) {
            prefix[size_t(next)] = uint16_t(prev);
            suffix[size_t(next)] = uint8_t(first_of_new);
            first[size_t(next)] = first[size_t(prev)];
            length[size_t(next)] = uint16_t(length[size_t(prev)] + 1);
            ++next;
            if (next == (1 << width) && width < 12) ++width;
        }
        emit(code);
        prev = code;
    }
    return pos;
}

}  // namespace

bool parse_gif(const uint8_t* d, size_t n, GifLayout& g) {
    g = GifLayout{};
    if (n < 13 || (std::memcmp(d, "GIF87a", 6) != 0 && std::memcmp(d, "GIF89a", 6) != 0)) return false;
    const int64_t screen_w = le16(d + 6), screen_h = le16(d + 8);
    const uint8_t flags = d[10];
    size_t off = 13;
    const uint8_t* global = nullptr;
    int global_entries = 0;
    if (flags & 0x80) {
        global_entries = 1 << ((flags & 7) + 1);
        if (size_t(global_entries) * 3 > n - off) return false;
        global = d + off;
        off += size_t(global_entries) * 3;
    }
    // PIL reads a palette that is exactly the grey ramp as no palette at all; the colours it
    // shows are the same either way, so that distinction needs no code here.
    while (off < n) {
        const uint8_t introducer = d[off++];
        if (introducer == 0x21) {  // extension: label, then sub-blocks
            if (off >= n) return false;
            const uint8_t label = d[off++];
            // A graphic control extension before the frame carries its transparent index.
            if (label == 0xf9 && off + 5 <= n && d[off] >= 4) {
                if (d[off + 1] & 1) g.transparent = d[off + 4];
            }
            if (!skip_sub_blocks(d, n, off)) return false;
        } else if (introducer == 0x2c) {  // image descriptor
            if (n - off < 9) return false;
            g.frame_x = le16(d + off);
            g.frame_y = le16(d + off + 2);
            g.frame_width = le16(d + off + 4);
            g.frame_height = le16(d + off + 6);
            const uint8_t f = d[off + 8];
            off += 9;
            g.interlaced = (f & 0x40) != 0;
            g.palette = global;
            g.palette_entries = global_entries;
            if (f & 0x80) {
                g.palette_entries = 1 << ((f & 7) + 1);
                if (size_t(g.palette_entries) * 3 > n - off) return false;
                g.palette = d + off;
                off += size_t(g.palette_entries) * 3;
            }
            if (off >= n) return false;
            g.min_code_size = d[off++];
            // Pixel indices are 8-bit, so the root codes must be too: the format allows 2..8, and 1
            // decodes just as well. (PIL takes 0..12 and truncates indices above 255.)
            if (g.min_code_size < 1 || g.min_code_size > 8) return false;
            g.data_offset = off;
            // The canvas grows to hold a frame that sticks out of the logical screen.
            g.canvas_width = std::max(screen_w, g.frame_x + g.frame_width);
            g.canvas_height = std::max(screen_h, g.frame_y + g.frame_height);
            return true;
        } else {
            return false;  // the trailer (0x3b) before any frame, or garbage
        }
    }
    return false;
}

bool decode_gif(const uint8_t* d, size_t n, const GifLayout& g, RgbImage& out) {
    const size_t frame_pixels = size_t(g.frame_width) * size_t(g.frame_height);
    std::vector<uint8_t> frame(frame_pixels);
    if (frame_pixels > 0 && lzw_decode(d, n, g.data_offset, g.min_code_size, frame) < frame_pixels) return false;

    // Indices on the canvas: pixels outside the frame hold the transparent index, else 0.
    const size_t cw = size_t(g.canvas_width), ch = size_t(g.canvas_height);
    std::vector<uint8_t> canvas(cw * ch, uint8_t(g.transparent >= 0 ? g.transparent : 0));
    // Interlaced frames store rows in four passes: every 8th from 0, every 8th from 4, every 4th
    // from 2, every 2nd from 1.
    static const size_t kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
    const size_t fw = size_t(g.frame_width), fh = size_t(g.frame_height);
    size_t stored_row = 0;
    const int passes = fw == 0 ? 0 : g.interlaced ? 4 : 1;  // a frame 0 pixels wide draws nothing
    for (int pass = 0; pass < passes; ++pass) {
        const size_t start = g.interlaced ? kStart[pass] : 0, step = g.interlaced ? kStep[pass] : 1;
        for (size_t row = start; row < fh; row += step, ++stored_row) {
            std::memcpy(&canvas[(size_t(g.frame_y) + row) * cw + size_t(g.frame_x)], &frame[stored_row * fw], fw);
        }
    }

    // Palette lookup, transparent pixels on white (what convert_to_rgb makes of alpha 0).
    uint8_t lut[256][3];
    for (int i = 0; i < 256; ++i) {
        for (int c = 0; c < 3; ++c) {
            if (g.palette_entries == 0) lut[i][c] = uint8_t(i);  // no palette: greyscale
            else lut[i][c] = i < g.palette_entries ? g.palette[i * 3 + c] : 0;
        }
    }
    if (g.transparent >= 0) std::memset(lut[g.transparent], 255, 3);
    out.width = g.canvas_width;
    out.height = g.canvas_height;
    out.pixels.resize(cw * ch * 3);
    for (size_t i = 0; i < cw * ch; ++i) std::memcpy(&out.pixels[i * 3], lut[canvas[i]], 3);
    return true;
}

}  // namespace gd::image_detail
