#pragma once
// Internal to gd_image: the first frame of a GIF (OpenCV 4.6 has no GIF decoder), shown the way
// the reference shows it. PIL (GifImagePlugin) opens frame 0 on a canvas the size of the logical
// screen, grown to hold the frame if it sticks out; pixels the frame does not cover hold the
// transparent index when the frame has one, else index 0; indices past the palette are black; a
// GIF with no palette is greyscale (index = grey level). transformers' convert_to_rgb then puts
// transparent pixels on white.
#include <cstddef>
#include <cstdint>

#include "vision/image/rgb_image.h"

namespace gd::image_detail {

struct GifLayout {
    int64_t canvas_width = 0, canvas_height = 0;
    int64_t frame_x = 0, frame_y = 0, frame_width = 0, frame_height = 0;
    const uint8_t* palette = nullptr;  // RGB triples (the local palette, else the global one)
    int palette_entries = 0;           // 0: no palette, greyscale
    int transparent = -1;              // the transparent index of the first frame, or -1
    bool interlaced = false;
    int min_code_size = 0;             // LZW minimum code size
    size_t data_offset = 0;            // first byte of the LZW sub-blocks
};

// Reads the screen descriptor and everything up to the first frame's pixel data. False when the
// file is cut short or malformed, or has no frame.
bool parse_gif(const uint8_t* data, size_t size, GifLayout& layout);

// Decodes the first frame onto its canvas. False when the LZW data is invalid or ends before the
// frame is complete. The caller has checked the canvas size against its limits.
bool decode_gif(const uint8_t* data, size_t size, const GifLayout& layout, RgbImage& out);

}  // namespace gd::image_detail
