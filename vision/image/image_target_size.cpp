// The budget -> size rule of Gemma4ImageProcessor (spec §3.2), integer-exact where the reference
// uses floats only for the scale factor.
#include <cmath>
#include <string>

#include "common/error.h"
#include "vision/image/image_preprocess.h"

namespace gd {

ImageTargetSize image_target_size(int64_t height, int64_t width, int64_t budget, int64_t patch, int64_t pool) {
    if (budget < 1 || budget > kMaxImageTokens) {
        throw Error("image token budget " + std::to_string(budget) + " is outside 1.." + std::to_string(kMaxImageTokens));
    }
    if (height <= 0 || width <= 0) throw Error("the image is empty (" + std::to_string(width) + "x" + std::to_string(height) + ")");
    const int64_t unit = patch * pool;
    const int64_t max_patches = budget * pool * pool;
    const int64_t target_px = max_patches * patch * patch;
    // The reference computes the factor and the products in Python floats (double).
    const double f = std::sqrt(static_cast<double>(target_px) / (static_cast<double>(height) * static_cast<double>(width)));
    int64_t th = static_cast<int64_t>(std::floor(f * static_cast<double>(height) / static_cast<double>(unit))) * unit;
    int64_t tw = static_cast<int64_t>(std::floor(f * static_cast<double>(width) / static_cast<double>(unit))) * unit;
    if (th == 0 && tw == 0) throw Error("the image is too small to resize");
    if (th == 0) {
        th = unit;
        tw = std::min((width / height) * unit, budget * unit);
    } else if (tw == 0) {
        tw = unit;
        th = std::min((height / width) * unit, budget * unit);
    }
    ImageTargetSize s;
    s.height = th;
    s.width = tw;
    s.patch = patch;
    s.pool = pool;
    if (th * tw > target_px) {
        throw Error("image of " + std::to_string(width) + "x" + std::to_string(height) + " does not fit " +
                    std::to_string(budget) + " tokens");
    }
    return s;
}

}  // namespace gd
