// The rest of the reference processor after sizing: resize (skipped when the image already has
// the target size, as Gemma4ImageProcessor.aspect_ratio_preserving_resize skips it), rescale to
// [0, 1] and cut into patches in raster order. The processor's padding rows (zeros at position
// (-1, -1) up to max_patches) are masked out by the model, so they are not produced here.
#include <cstddef>

#include "vision/image/image_preprocess.h"

namespace gd {

PatchedImage preprocess_image(const RgbImage& image, int64_t budget, int64_t patch, int64_t pool) {
    PatchedImage p;
    p.size = image_target_size(image.height, image.width, budget, patch, pool);
    p.resized = (p.size.height == image.height && p.size.width == image.width)
                    ? image
                    : resize_bicubic_antialias(image, p.size.height, p.size.width);

    // The reference multiplies the uint8 tensor by the Python float 1/255; torch casts that
    // scalar to float32 and multiplies in float32 (not a division by 255: results differ in the
    // last bit for some values).
    const float rescale = static_cast<float>(1.0 / 255.0);
    float lut[256];
    for (int v = 0; v < 256; ++v) lut[v] = static_cast<float>(v) * rescale;

    const int64_t gh = p.size.grid_height(), gw = p.size.grid_width();
    const int64_t per_patch = patch * patch * 3;
    p.patches.resize(size_t(gh * gw * per_patch));
    p.pos_x.resize(size_t(gh * gw));
    p.pos_y.resize(size_t(gh * gw));
    const int64_t row_values = p.size.width * 3;
    float* out = p.patches.data();
    for (int64_t gy = 0; gy < gh; ++gy) {
        for (int64_t gx = 0; gx < gw; ++gx) {
            const size_t n = size_t(gy * gw + gx);
            p.pos_x[n] = int32_t(gx);  // column
            p.pos_y[n] = int32_t(gy);  // row
            // Within a patch: rows, then columns, then channels (channel fastest), i.e. each
            // patch row is patch*3 contiguous values of the image row.
            for (int64_t py = 0; py < patch; ++py) {
                const uint8_t* src = p.resized.pixels.data() + (gy * patch + py) * row_values + gx * patch * 3;
                for (int64_t k = 0; k < patch * 3; ++k) *out++ = lut[src[k]];
            }
        }
    }
    return p;
}

}  // namespace gd
