#pragma once
// The reference image processor (spec §3.2), exactly: a soft-token budget decides the size the image
// is resized to (aspect kept, sides multiples of 48, the budget a ceiling, small images upscaled),
// antialiased bicubic resampling to 8 bits, rescale to [0, 1], and 16x16 patches in raster order,
// each flattened (py, px, c) with the channel fastest.
#include <cstdint>
#include <vector>

#include "vision/image/rgb_image.h"

namespace gd {

// The five budgets the published processor accepts; any budget from 1 to kMaxImageTokens follows the
// same rule (for experiments and tests).
inline constexpr int64_t kImageBudgets[] = {70, 140, 280, 560, 1120};
inline constexpr int64_t kDefaultImageTokens = 280;
inline constexpr int64_t kMaxImageTokens = 1120;

struct ImageTargetSize {
    int64_t height = 0, width = 0;   // pixels after resizing (multiples of patch * pool)
    int64_t patch = 16, pool = 3;
    int64_t grid_height() const { return height / patch; }   // patches
    int64_t grid_width() const { return width / patch; }
    int64_t patches() const { return grid_height() * grid_width(); }
    int64_t soft_tokens() const { return patches() / (pool * pool); }
};

// The reference's sizing rule for an image of height x width at `budget` soft tokens. Throws
// gd::Error for a budget outside 1..kMaxImageTokens or an empty image.
ImageTargetSize image_target_size(int64_t height, int64_t width, int64_t budget, int64_t patch = 16, int64_t pool = 3);

// Antialiased bicubic (Keys a = -0.5, support widened by the scale when shrinking, half-pixel
// centres), 8-bit in, 8-bit out, as the reference processor resamples.
RgbImage resize_bicubic_antialias(const RgbImage& image, int64_t height, int64_t width);

struct PatchedImage {
    ImageTargetSize size;
    RgbImage resized;               // what the model sees
    std::vector<float> patches;     // [patches, patch*patch*3] in [0, 1], raster order
    std::vector<int32_t> pos_x;     // patch column, per patch
    std::vector<int32_t> pos_y;     // patch row, per patch
};

PatchedImage preprocess_image(const RgbImage& image, int64_t budget, int64_t patch = 16, int64_t pool = 3);

}  // namespace gd
