#pragma once
// Image files in: PNG, JPEG (EXIF orientation applied), WebP, BMP, TIFF, GIF (first frame), 8- or
// 16-bit, grayscale / palette / alpha, converted to 8-bit RGB as the reference processor does.
// Files are untrusted: the header's dimensions are checked against limits before any pixel is
// decoded, so a decompression bomb costs no memory; every failure is a gd::FormatError in plain
// words naming the file (a file that cannot be opened or read at all is a plain gd::Error).
#include <cstddef>
#include <cstdint>
#include <string>

#include "vision/image/rgb_image.h"

namespace gd {

struct ImageLimits {
    uint64_t max_file_bytes = 256ull << 20;  // larger files are refused before reading
    int64_t max_pixels = 100'000'000;        // width * height (a 100-megapixel photo still opens)
    int64_t max_side = 65'535;
};

RgbImage decode_image_file(const std::string& path, const ImageLimits& limits = {});
// `name` is used in error messages ("clipboard image", a file name).
RgbImage decode_image_bytes(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits = {});

}  // namespace gd
