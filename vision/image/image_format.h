#pragma once
// Internal to gd_image: recognising an image file and reading its header (size, EXIF orientation)
// without decoding a pixel, so limits are enforced before any large allocation. Every reader is
// bounds-checked: input bytes are untrusted.
#include <cstddef>
#include <cstdint>

namespace gd::image_detail {

enum class ImageFormat { unknown, png, jpeg, gif, bmp, tiff, webp };

const char* format_name(ImageFormat format);

// By magic bytes only; unknown when nothing matches.
ImageFormat sniff_format(const uint8_t* data, size_t size);

struct ImageHeader {
    ImageFormat format = ImageFormat::unknown;
    int64_t width = 0, height = 0;  // as stored, before any EXIF rotation
    int orientation = 1;            // EXIF orientation 1..8 (JPEG, PNG and WebP; 1 when absent)
    bool animated = false;          // an animated WebP (OpenCV decodes still WebP only)
};

// False when the header is cut short or malformed (the file is truncated or damaged).
bool read_header(const uint8_t* data, size_t size, ImageFormat format, ImageHeader& header);

// The orientation tag (0x0112) of an EXIF block ("Exif\0\0" prefix optional, then a TIFF
// structure); 1 when absent or out of range.
int exif_orientation(const uint8_t* exif, size_t size);

// True when OpenCV could hand these bytes to its GDAL decoder. cv::imdecode picks the first
// decoder whose signature check accepts the data; for the formats we accept, only GDAL's "DTED
// at offset 140" rule can also match, and it wins whenever the right decoder's own check fails
// (a WebP with an inconsistent RIFF header, say). GDAL then writes the bytes to a temporary file
// and runs its whole driver registry on them: far more parser than an image needs to expose.
bool gdal_could_claim(const uint8_t* data, size_t size);

// A JPEG whose data stops before its end-of-image marker: libjpeg would fill the missing part
// with grey and call it a success.
bool jpeg_is_complete(const uint8_t* data, size_t size);

// Big- and little-endian reads; callers check the bounds.
inline uint16_t be16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
inline uint16_t le16(const uint8_t* p) { return uint16_t(p[1] << 8 | p[0]); }
inline uint32_t le32(const uint8_t* p) { return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | p[0]; }

}  // namespace gd::image_detail
