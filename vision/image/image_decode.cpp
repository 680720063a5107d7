// Image files to 8-bit RGB. The header is read and checked against the limits first (so a
// decompression bomb fails in microseconds with no allocation), then OpenCV decodes PNG, JPEG,
// WebP, BMP and TIFF, and our own decoder handles GIF. The pixels are converted the way the
// reference processor converts a PIL image (transformers' convert_to_rgb): grey is repeated,
// transparency is composited over white, EXIF orientation is applied (ImageOps.exif_transpose).
//
// Why alpha goes on white: transformers has three routes to RGB. A PIL image handed to the
// processor goes through convert_to_rgb, which composites over white; a path or URL goes through
// torchvision.io.decode_image(mode=RGB), and load_image through PIL's convert("RGB"), and both of
// those drop alpha, so a transparent logo shows whatever colour its invisible pixels hold (often
// black on black). We follow convert_to_rgb, the processor's own conversion.
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "vision/image/gif_decode.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_format.h"
#include "vision/image/image_orient.h"

namespace gd {

using namespace image_detail;

namespace {

std::string bytes_text(uint64_t n) {
    return n >= (1u << 20) ? std::to_string(n >> 20) + " MB" : std::to_string(n) + " bytes";
}

std::string pixels_text(int64_t n) {
    return n % 1'000'000 == 0 ? std::to_string(n / 1'000'000) + " megapixels" : std::to_string(n) + " pixels";
}

[[noreturn]] void damaged(const std::string& name) { throw FormatError(name + " is truncated or damaged"); }

void check_limits(const ImageHeader& h, const std::string& name, const ImageLimits& limits) {
    const std::string dims = std::to_string(h.width) + "×" + std::to_string(h.height) + " pixels";
    if (h.width > limits.max_side || h.height > limits.max_side) {
        throw FormatError(name + " is " + dims + "; the most Gemma Desk opens is " + std::to_string(limits.max_side) +
                          " pixels on a side");
    }
    // Both sides are at most 2^31, so the product fits in int64.
    if (h.width * h.height > limits.max_pixels) {
        throw FormatError(name + " is " + dims + "; the most Gemma Desk opens is " + pixels_text(limits.max_pixels));
    }
}

// A greyscale PNG may name one grey value transparent (tRNS); OpenCV ignores it, PIL makes those
// pixels transparent and convert_to_rgb turns them white. Returns the key in the units OpenCV
// decodes to (1, 2 and 4-bit grey are scaled to 0..255, 16-bit stays 16-bit), or -1.
int png_grey_key(const uint8_t* d, size_t n) {
    if (n < 33 || d[25] != 0) return -1;  // colour type 0: greyscale
    const int bit_depth = d[24];
    for (size_t off = 8; n - off >= 12;) {
        const uint32_t len = be32(d + off);
        if (len > n - off - 12) return -1;
        if (std::memcmp(d + off + 4, "tRNS", 4) == 0) {
            if (len < 2) return -1;
            const int key = be16(d + off + 8) & ((1 << bit_depth) - 1);
            return bit_depth < 8 ? key * 255 / ((1 << bit_depth) - 1) : key;
        }
        if (std::memcmp(d + off + 4, "IDAT", 4) == 0) return -1;  // tRNS must come before the pixels
        off += 12 + size_t(len);
    }
    return -1;
}

// PIL's alpha_composite of 8-bit RGBA over opaque white, exactly (checked against PIL for all
// 65536 colour/alpha pairs): round((c * a + 255 * (255 - a)) / 255).
inline uint8_t over_white(unsigned c, unsigned a) { return uint8_t((c * a + 255 * (255 - a) + 127) / 255); }

template <typename T>
void convert_rows(const cv::Mat& m, int grey_key, RgbImage& out) {
    // 16-bit samples keep their high byte, as PIL does for 16-bit RGB and RGBA PNGs. (PIL opens
    // 16-bit greyscale as mode I;16 and its convert("RGB") clips every value above 255 to white;
    // we keep the high byte there too.)
    constexpr int shift = sizeof(T) == 2 ? 8 : 0;
    const int ch = m.channels();
    for (int y = 0; y < m.rows; ++y) {
        const T* s = m.ptr<T>(y);
        uint8_t* o = &out.pixels[size_t(y) * size_t(m.cols) * 3];
        for (int x = 0; x < m.cols; ++x, s += ch, o += 3) {
            switch (ch) {
                case 1: {
                    const uint8_t g = grey_key >= 0 && int(s[0]) == grey_key ? 255 : uint8_t(s[0] >> shift);
                    o[0] = o[1] = o[2] = g;
                    break;
                }
                case 2:
                    o[0] = o[1] = o[2] = over_white(unsigned(s[0] >> shift), unsigned(s[1] >> shift));
                    break;
                case 3:  // OpenCV's order is BGR
                    o[0] = uint8_t(s[2] >> shift);
                    o[1] = uint8_t(s[1] >> shift);
                    o[2] = uint8_t(s[0] >> shift);
                    break;
                default: {  // BGRA
                    const unsigned a = unsigned(s[3] >> shift);
                    o[0] = over_white(unsigned(s[2] >> shift), a);
                    o[1] = over_white(unsigned(s[1] >> shift), a);
                    o[2] = over_white(unsigned(s[0] >> shift), a);
                    break;
                }
            }
        }
    }
}

RgbImage decode_opencv(const uint8_t* data, size_t size, const ImageHeader& h, const std::string& name) {
    if (size > size_t(INT_MAX)) damaged(name);  // cv::Mat sides are int
    // Only OpenCV's decoder for the format we recognised may see the bytes (gdal_could_claim in
    // image_format.h says why). A real image has "DTED" at offset 140 once in 4 billion files.
    if (gdal_could_claim(data, size)) damaged(name);
    // OpenCV logs a warning of its own for every file it cannot decode; the caller gets ours as
    // an exception, so OpenCV's log is kept to errors. (libpng and libjpeg still print their
    // messages about damaged data to stderr themselves.) gd_image is OpenCV's only user here.
    static const bool quiet = [] {
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
        return true;
    }();
    (void)quiet;
    cv::Mat m;
    try {
        // IMREAD_UNCHANGED keeps alpha and 16-bit samples and leaves EXIF orientation to us (OpenCV
        // 4.6 applies it only to JPEG and PNG, and not in this mode). OpenCV's own backstop against
        // huge images (OPENCV_IO_MAX_IMAGE_PIXELS, 2^30) is read from the environment once at load
        // time and cannot be lowered from here; the header check above is the real limit.
        const cv::Mat buffer(1, int(size), CV_8U, const_cast<uint8_t*>(data));
        m = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception&) {
        damaged(name);
    }
    if (m.empty() || m.dims != 2) damaged(name);
    // The decoder must agree with the header we checked (libtiff turns a TIFF by its own
    // orientation tag, which can swap the sides).
    const bool same = m.cols == h.width && m.rows == h.height;
    const bool swapped = h.format == ImageFormat::tiff && m.cols == h.height && m.rows == h.width;
    if (!same && !swapped) damaged(name);
    if (m.channels() < 1 || m.channels() > 4 || (m.depth() != CV_8U && m.depth() != CV_16U)) {
        throw FormatError(name + " uses a pixel format Gemma Desk cannot read (only 8- and 16-bit grey, RGB and RGBA)");
    }
    RgbImage out;
    out.width = m.cols;
    out.height = m.rows;
    out.pixels.resize(size_t(out.width) * size_t(out.height) * 3);
    const int grey_key = h.format == ImageFormat::png && m.channels() == 1 ? png_grey_key(data, size) : -1;
    if (m.depth() == CV_8U) convert_rows<uint8_t>(m, grey_key, out);
    else convert_rows<uint16_t>(m, grey_key, out);
    return out;
}

}  // namespace

RgbImage decode_image_bytes(const uint8_t* data, size_t size, const std::string& name, const ImageLimits& limits) {
    if (size == 0 || data == nullptr) throw FormatError(name + " is empty");
    if (size > limits.max_file_bytes) {
        throw FormatError(name + " is " + bytes_text(size) + "; the most Gemma Desk opens is " + bytes_text(limits.max_file_bytes));
    }
    const ImageFormat format = sniff_format(data, size);
    if (format == ImageFormat::unknown) {
        throw FormatError(name + " is not an image file (PNG, JPEG, WebP, BMP, TIFF or GIF)");
    }
    ImageHeader h;
    if (!read_header(data, size, format, h)) damaged(name);
    if (h.animated) throw FormatError(name + " is an animated WebP; Gemma Desk opens still images only");
    check_limits(h, name, limits);
    // libjpeg fills a cut-off JPEG with grey and reports success; PIL refuses it as truncated.
    if (format == ImageFormat::jpeg && !jpeg_is_complete(data, size)) damaged(name);

    RgbImage image;
    if (format == ImageFormat::gif) {
        GifLayout g;
        if (!parse_gif(data, size, g) || !decode_gif(data, size, g, image)) damaged(name);
    } else {
        image = decode_opencv(data, size, h, name);
    }
    return h.orientation > 1 ? apply_orientation(image, h.orientation) : image;
}

RgbImage decode_image_file(const std::string& path, const ImageLimits& limits) {
    namespace fs = std::filesystem;
    std::string name = fs::path(path).filename().string();
    if (name.empty()) name = path;
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw FormatError(name + " is a folder, not an image file");
    struct Closer {
        void operator()(FILE* file) const { std::fclose(file); }
    };
    std::unique_ptr<FILE, Closer> f(std::fopen(path.c_str(), "rb"));
    if (!f) throw Error("cannot open " + path + ": " + std::strerror(errno));
    // The size is checked before anything is read: a huge file costs no memory.
    const uintmax_t size = fs::file_size(path, ec);
    if (ec) throw Error("cannot read " + path + ": " + ec.message());
    if (size == 0) throw FormatError(name + " is empty");
    if (size > limits.max_file_bytes) {
        throw FormatError(name + " is " + bytes_text(size) + "; the most Gemma Desk opens is " + bytes_text(limits.max_file_bytes));
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    if (std::fread(bytes.data(), 1, bytes.size(), f.get()) != bytes.size()) {
        throw Error("cannot read " + path + ": " + std::strerror(errno));
    }
    return decode_image_bytes(bytes.data(), bytes.size(), name, limits);
}

}  // namespace gd
