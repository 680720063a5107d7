#pragma once
// An 8-bit RGB image in memory: rows top to bottom, pixels left to right, channels R, G, B
// (HWC, what the reference processor's PIL/torchvision image holds after convert("RGB")).
#include <cstdint>
#include <vector>

namespace gd {

struct RgbImage {
    int64_t width = 0, height = 0;
    std::vector<uint8_t> pixels;  // height * width * 3

    bool empty() const { return width == 0 || height == 0; }
    const uint8_t* at(int64_t y, int64_t x) const { return pixels.data() + (y * width + x) * 3; }
};

}  // namespace gd
