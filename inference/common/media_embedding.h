#pragma once
// Soft tokens of one image (or audio clip) ready to be placed into a prompt: the rows the encoder's
// embedder produced, in the order the placeholders take them, plus what the user may want to know
// about them. Plain data: the chat renderer, the session and the app pass it around by shared_ptr.
#include <cstdint>
#include <vector>

namespace gd {

struct MediaEmbedding {
    enum class Kind { Image, Audio };
    Kind kind = Kind::Image;
    int64_t tokens = 0;        // rows: soft tokens, one per placeholder
    int64_t width = 0;         // cols: the text model's hidden size
    std::vector<float> data;   // tokens * width, row-major, inserted as-is (no embedding scale)
    uint64_t key = 0;          // content hash of `data`: the KV cache reuses only identical media

    // Images: the size the encoder saw after resizing, and its patch grid (16-pixel patches).
    int64_t image_width = 0, image_height = 0;
    int64_t grid_width = 0, grid_height = 0;
    // Audio: the clip's length and the number of 30 s pieces it was encoded in.
    double audio_seconds = 0;
    int64_t audio_pieces = 0;
    double encode_seconds = 0;
};

// 64-bit FNV-1a over the rows' bytes (and the shape), for MediaEmbedding::key.
uint64_t media_content_key(const MediaEmbedding& m);

}  // namespace gd
