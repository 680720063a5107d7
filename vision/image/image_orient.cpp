// EXIF orientation, applied the way PIL.ImageOps.exif_transpose does (the reference's
// load_image calls it): 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
// 7 transverse, 8 rotate 90 counter-clockwise.
#include <cstring>

#include "vision/image/image_orient.h"

namespace gd::image_detail {

RgbImage apply_orientation(const RgbImage& in, int orientation) {
    if (orientation < 2 || orientation > 8 || in.empty()) return in;
    const int64_t w = in.width, h = in.height;
    const bool swap = orientation >= 5;
    RgbImage out;
    out.width = swap ? h : w;
    out.height = swap ? w : h;
    out.pixels.resize(in.pixels.size());
    for (int64_t y = 0; y < out.height; ++y) {
        for (int64_t x = 0; x < out.width; ++x) {
            int64_t sy = y, sx = x;  // the source pixel of output (y, x)
            switch (orientation) {
                case 2: sx = w - 1 - x; break;
                case 3: sy = h - 1 - y; sx = w - 1 - x; break;
                case 4: sy = h - 1 - y; break;
                case 5: sy = x; sx = y; break;
                case 6: sy = h - 1 - x; sx = y; break;
                case 7: sy = h - 1 - x; sx = w - 1 - y; break;
                case 8: sy = x; sx = w - 1 - y; break;
                default: break;
            }
            std::memcpy(&out.pixels[size_t((y * out.width + x) * 3)], in.at(sy, sx), 3);
        }
    }
    return out;
}

}  // namespace gd::image_detail
