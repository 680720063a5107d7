#pragma once
// Internal to gd_image: turning a decoded image upright by its EXIF orientation (1..8).
#include "vision/image/rgb_image.h"

namespace gd::image_detail {

// A copy turned as PIL.ImageOps.exif_transpose turns it; orientations 5..8 swap width and height.
RgbImage apply_orientation(const RgbImage& image, int orientation);

}  // namespace gd::image_detail
