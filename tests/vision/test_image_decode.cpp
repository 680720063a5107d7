// Image files in: every format and pixel layout against the reference's decode (PIL +
// exif_transpose + transformers' convert_to_rgb, recorded by tools/reference/dump_image_reference.py),
// and every kind of bad input: empty, not an image, truncated, corrupt, decompression bombs.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "support/test_support.h"
#include "vision/image/image_decode.h"

namespace {

using nlohmann::json;

std::string vision_dir() { return gd::test::data_dir() + "/vision"; }

const json& reference() { return gd::test::data_json("vision/image_reference/image_reference.json"); }

std::vector<uint8_t> image_bytes(const std::string& name) {
    return gd::test::read_file(vision_dir() + "/" + reference()["images"][name]["file"].get<std::string>());
}

gd::RgbImage decode(const std::vector<uint8_t>& bytes, const std::string& name = "test.img", const gd::ImageLimits& limits = {}) {
    return gd::decode_image_bytes(bytes.data(), bytes.size(), name, limits);
}

// The script's checksum: sum(word_i * (2 i + 1)) mod 2^64, here over the RGB bytes.
std::string checksum(const std::vector<uint8_t>& bytes) {
    uint64_t s = 0;
    for (size_t i = 0; i < bytes.size(); ++i) s += uint64_t(bytes[i]) * (2 * uint64_t(i) + 1);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(s));
    return buf;
}

struct Diff {
    int max = 0;
    size_t differing = 0;
};

Diff compare(const gd::RgbImage& a, const gd::RgbImage& b) {
    Diff d;
    for (size_t i = 0; i < a.pixels.size(); ++i) {
        const int e = std::abs(int(a.pixels[i]) - int(b.pixels[i]));
        d.max = std::max(d.max, e);
        d.differing += e != 0;
    }
    return d;
}

// Expects `fn` to throw gd::FormatError whose message contains every one of `parts`.
template <typename Fn>
void expect_format_error(Fn fn, std::initializer_list<std::string> parts) {
    try {
        fn();
        ADD_FAILURE() << "no error; expected one containing " << *parts.begin();
    } catch (const gd::FormatError& e) {
        for (const std::string& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
}

// ---------------------------------------------------------------------------------------------
// Every reference image: size and pixels as the reference decodes them.
// ---------------------------------------------------------------------------------------------

TEST(ImageDecode, EveryReferenceImageDecodesAsTheReferenceDoes) {
    for (const auto& [name, entry] : reference()["images"].items()) {
        SCOPED_TRACE(name);
        const gd::RgbImage img = decode(image_bytes(name), name);
        ASSERT_EQ(img.height, entry["height"].get<int64_t>());
        ASSERT_EQ(img.width, entry["width"].get<int64_t>());
        ASSERT_EQ(img.pixels.size(), size_t(img.width * img.height * 3));
        const std::string sum = checksum(img.pixels);
        if (entry.contains("decoded")) {
            // Lossless formats must match exactly. JPEG and lossy WebP too: OpenCV's system
            // libjpeg-turbo / libwebp and PIL's bundled ones run the same integer IDCT, upsampling
            // and YUV->RGB code, so any difference here would be a real decoding difference.
            const gd::RgbImage want = gd::decode_image_file(vision_dir() + "/" + entry["decoded"].get<std::string>());
            ASSERT_EQ(want.width, img.width);
            ASSERT_EQ(want.height, img.height);
            const Diff d = compare(img, want);
            EXPECT_EQ(d.max, 0) << name << ": " << d.differing << " of " << img.pixels.size() << " values differ";
        }
        EXPECT_EQ(sum, entry["decoded_checksum"].get<std::string>());
    }
}

TEST(ImageDecode, ExifOrientationIsAppliedLikeExifTranspose) {
    // orient1..8.png carry an eXIf chunk; the expectation is PIL's exif_transpose of the same file.
    for (int o = 1; o <= 8; ++o) {
        const std::string name = "orient" + std::to_string(o) + "_png";
        SCOPED_TRACE(name);
        const gd::RgbImage img = decode(image_bytes(name), name);
        const gd::RgbImage want = gd::decode_image_file(vision_dir() + "/" + reference()["images"][name]["decoded"].get<std::string>());
        EXPECT_EQ(img.width, o >= 5 ? 3 : 5);
        ASSERT_EQ(img.width, want.width);
        ASSERT_EQ(img.height, want.height);
        EXPECT_EQ(img.pixels, want.pixels);
    }
}

TEST(ImageDecode, JpegExifOrientationSixTurnsThePhotoUpright) {
    // Stored 160 wide and 120 high with orientation 6 (rotate 90 degrees clockwise to view).
    const gd::RgbImage img = decode(image_bytes("jpeg_exif6"), "exif6.jpg");
    EXPECT_EQ(img.width, 120);
    EXPECT_EQ(img.height, 160);
    const gd::RgbImage webp = decode(image_bytes("webp_lossless_alpha_exif6"), "alpha_exif6.webp");
    EXPECT_EQ(webp.width, 120);
    EXPECT_EQ(webp.height, 160);
    const gd::RgbImage tiff = decode(image_bytes("tiff_exif6"), "exif6.tiff");  // libtiff turns it itself
    EXPECT_EQ(tiff.width, 60);
    EXPECT_EQ(tiff.height, 90);
}

TEST(ImageDecode, AlphaIsCompositedOverWhite) {
    // rgba.png has a fully transparent block (rows 10..39, columns 20..59) over coloured pixels,
    // and full alpha at rows 80..109, columns 100..149.
    const gd::RgbImage img = decode(image_bytes("rgba_png"), "rgba.png");
    for (int c = 0; c < 3; ++c) EXPECT_EQ(img.at(20, 30)[c], 255);
    // gray_trns.png: one grey level is transparent; PIL shows it white, so do we.
    const gd::RgbImage g = decode(image_bytes("gray_trns_png"), "gray_trns.png");
    const gd::RgbImage gw = gd::decode_image_file(vision_dir() + "/" + reference()["images"]["gray_trns_png"]["decoded"].get<std::string>());
    EXPECT_EQ(g.pixels, gw.pixels);
    EXPECT_EQ(g.at(30, 40)[0], 255);
}

TEST(ImageDecode, SixteenBitKeepsTheHighByte) {
    // 16-bit RGB and RGBA: the reference (PIL) keeps the high byte (checked with the other
    // reference images). 16-bit grey: PIL clips every value above 255 to white, which we do not
    // follow; we keep the high byte there too, a deviation the reference data records.
    const json& entry = reference()["images"]["gray16_png"];
    EXPECT_TRUE(entry.contains("deviation"));
    EXPECT_NE(entry["pil_decoded_checksum"], entry["decoded_checksum"]);
    const gd::RgbImage g = decode(image_bytes("gray16_png"), "gray16.png");
    const gd::RgbImage want = gd::decode_image_file(vision_dir() + "/" + entry["decoded"].get<std::string>());
    EXPECT_EQ(g.pixels, want.pixels);
}

TEST(ImageDecode, GifFirstFrameFollowsPil) {
    // Tiny hand-made GIFs: a frame smaller than the screen (the rest is index 0, or transparent
    // -> white when the frame has a transparent index), a frame sticking out of the screen (the
    // canvas grows), palette indices past the palette (black), a local palette, no palette at all
    // (grey), and interlaced rows. Expectations: PIL's decode of the same bytes.
    for (const char* name : {"gif_small_frame", "gif_small_frame_trns", "gif_frame_outside", "gif_palette_oob",
                             "gif_local_palette", "gif_no_palette", "gif_interlaced_10", "palette_gif", "interlaced_gif"}) {
        SCOPED_TRACE(name);
        const gd::RgbImage img = decode(image_bytes(name), name);
        const gd::RgbImage want = gd::decode_image_file(vision_dir() + "/" + reference()["images"][name]["decoded"].get<std::string>());
        ASSERT_EQ(img.width, want.width);
        ASSERT_EQ(img.height, want.height);
        EXPECT_EQ(img.pixels, want.pixels);
    }
    const gd::RgbImage outside = decode(image_bytes("gif_frame_outside"));
    EXPECT_EQ(outside.width, 3);  // screen 2x2, frame at (1, 1) of 2x2
    EXPECT_EQ(outside.height, 3);
}

TEST(ImageDecode, DecodeFileNamesTheFile) {
    const gd::RgbImage img = gd::decode_image_file(vision_dir() + "/images/gray.png");
    EXPECT_EQ(img.width, 200);
    const std::string dir = gd::test::scratch_dir("DecodeFileNamesTheFile");
    gd::test::write_file(dir + "/notes.png", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o', '\n'});
    expect_format_error([&] { gd::decode_image_file(dir + "/notes.png"); },
                        {"notes.png is not an image file (PNG, JPEG, WebP, BMP, TIFF or GIF)"});
    gd::test::write_file(dir + "/empty.jpg", {});
    expect_format_error([&] { gd::decode_image_file(dir + "/empty.jpg"); }, {"empty.jpg is empty"});
    expect_format_error([&] { gd::decode_image_file(dir); }, {"is a folder"});
    EXPECT_THROW(gd::decode_image_file(dir + "/missing.png"), gd::Error);
    gd::ImageLimits small;
    small.max_file_bytes = 100;
    expect_format_error([&] { gd::decode_image_file(vision_dir() + "/images/gray.png", small); },
                        {"gray.png is", "the most Gemma Desk opens is 100 bytes"});
}

// ---------------------------------------------------------------------------------------------
// Bad input. Nothing may crash, hang or allocate much; every failure is a FormatError naming the
// file.
// ---------------------------------------------------------------------------------------------

TEST(ImageDecode, NotAnImage) {
    const std::string text = "Dear diary, today I saved a text file as photo.png.\n";
    expect_format_error([&] { decode(std::vector<uint8_t>(text.begin(), text.end()), "photo.png"); },
                        {"photo.png is not an image file (PNG, JPEG, WebP, BMP, TIFF or GIF)"});
    std::vector<uint8_t> gguf = {'G', 'G', 'U', 'F', 3, 0, 0, 0};
    gguf.resize(64, 0);
    expect_format_error([&] { decode(gguf, "model.gguf"); }, {"model.gguf is not an image file"});
    expect_format_error([&] { decode({}, "nothing.png"); }, {"nothing.png is empty"});
    std::mt19937 rng(7);
    std::vector<uint8_t> noise(4096);
    for (auto& b : noise) b = uint8_t(rng());
    noise[0] = 0;  // no magic by chance
    expect_format_error([&] { decode(noise, "noise.bin"); }, {"noise.bin is not an image file"});
}

TEST(ImageDecode, TruncatedFilesAreRefused) {
    // Each file cut at several points (inside the header, inside the pixel data, just before the
    // end): a FormatError every time, never a crash and never a half-grey picture.
    for (const char* name : {"rgba_png", "gray16_png", "jpeg_exif6", "jpeg_exif8_progressive", "webp_lossy",
                             "webp_lossless_alpha_exif6", "bmp", "tiff_lzw", "palette_gif", "interlaced_gif"}) {
        const std::vector<uint8_t> full = image_bytes(name);
        for (double frac : {0.0, 0.02, 0.1, 0.5, 0.9}) {
            size_t cut = size_t(double(full.size()) * frac);
            cut = std::max<size_t>(cut, 1);
            SCOPED_TRACE(std::string(name) + " cut at " + std::to_string(cut) + " of " + std::to_string(full.size()));
            const std::vector<uint8_t> part(full.begin(), full.begin() + std::ptrdiff_t(cut));
            EXPECT_THROW(decode(part, name), gd::FormatError);
        }
    }
    // Cut just before the end: the PNG loses its IEND chunk, the JPEG its end-of-image marker.
    for (const char* name : {"rgba_png", "jpeg_exif6", "webp_lossy", "bmp"}) {
        SCOPED_TRACE(name);
        std::vector<uint8_t> part = image_bytes(name);
        part.resize(part.size() - 6);
        expect_format_error([&] { decode(part, "cut.img"); }, {"cut.img is truncated or damaged"});
    }
}

TEST(ImageDecode, CorruptFilesAreRefused) {
    // A broken PNG chunk CRC, a JPEG whose frame header says 0 lines, a GIF whose LZW stream
    // holds impossible codes, a BMP with a negative width: all errors, no crash.
    std::vector<uint8_t> png = image_bytes("rgba_png");
    png[png.size() / 2] ^= 0x5a;
    EXPECT_THROW(decode(png), gd::FormatError);

    std::vector<uint8_t> jpg = image_bytes("jpeg_gray");
    for (size_t i = 2; i + 8 < jpg.size(); ++i) {
        if (jpg[i] == 0xff && jpg[i + 1] == 0xc0) {  // SOF0: length(2) precision(1) height(2)
            jpg[i + 5] = 0;
            jpg[i + 6] = 0;
            break;
        }
    }
    EXPECT_THROW(decode(jpg), gd::FormatError);

    std::vector<uint8_t> gif = image_bytes("gif_interlaced_10");
    for (size_t i = gif.size() - 8; i < gif.size() - 2; ++i) gif[i] = 0xff;
    EXPECT_THROW(decode(gif), gd::FormatError);

    std::vector<uint8_t> bmp = image_bytes("bmp");
    bmp[21] = 0x80;  // width's top byte: negative
    EXPECT_THROW(decode(bmp), gd::FormatError);

    // A TIFF whose first directory points past the end of the file.
    std::vector<uint8_t> tif = image_bytes("tiff_lzw");
    tif[4] = tif[5] = tif[6] = 0xff;
    tif[7] = 0x7f;
    EXPECT_THROW(decode(tif), gd::FormatError);
}

// Headers for images far larger than the limits, valid in every other way that matters.
std::vector<uint8_t> png_header(uint32_t w, uint32_t h) {
    std::vector<uint8_t> d = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (uint32_t v : {w, h}) for (int s = 24; s >= 0; s -= 8) d.push_back(uint8_t(v >> s));
    for (uint8_t b : {8, 2, 0, 0, 0}) d.push_back(b);  // 8-bit RGB
    for (int i = 0; i < 4; ++i) d.push_back(0);        // CRC (the size is refused before it is checked)
    // An IDAT holding a zlib stream of 64 zero bytes (the start of the first row), then IEND.
    const uint8_t tail[] = {0, 0, 0, 12, 'I', 'D', 'A', 'T', 0x78, 0xda, 0x63, 0x60, 0xa0, 0x0c, 0x00, 0x00,
                            0x00, 0x40, 0x00, 0x01, 0x89, 0xc9, 0xaf, 0x43, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    d.insert(d.end(), std::begin(tail), std::end(tail));
    return d;
}

long peak_rss_kb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

TEST(ImageDecode, DecompressionBombFailsFastInBoundedMemory) {
    const std::vector<uint8_t> bomb = png_header(60000, 60000);
    const long rss_before = peak_rss_kb();
    const auto t0 = std::chrono::steady_clock::now();
    expect_format_error([&] { decode(bomb, "bomb.png"); },
                        {"bomb.png is 60000×60000 pixels; the most Gemma Desk opens is 100 megapixels"});
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const long grown_kb = peak_rss_kb() - rss_before;
    std::printf("60000x60000 PNG refused in %.3f ms; peak RSS grew by %ld KB\n", ms, grown_kb);
    EXPECT_LT(ms, 100.0);
    EXPECT_LT(grown_kb, 16 * 1024);  // decoding it would need 10.8 GB

    // Written to disk and opened by path: the same, before any pixel is read.
    const std::string dir = gd::test::scratch_dir("DecompressionBomb");
    gd::test::write_file(dir + "/bomb.png", bomb);
    expect_format_error([&] { gd::decode_image_file(dir + "/bomb.png"); }, {"bomb.png is 60000×60000 pixels"});

    // Sides past the per-side limit.
    expect_format_error([&] { decode(png_header(70000, 10), "wide.png"); },
                        {"wide.png is 70000×10 pixels; the most Gemma Desk opens is 65535 pixels on a side"});
    // Custom limits are reported as set.
    gd::ImageLimits small;
    small.max_pixels = 4096;
    expect_format_error([&] { decode(png_header(100, 100), "small.png", small); }, {"the most Gemma Desk opens is 4096 pixels"});
}

TEST(ImageDecode, HugeDimensionsInEveryFormatAreRefusedFromTheHeader) {
    // JPEG: SOI, then a baseline frame header of 65000 x 65000.
    const std::vector<uint8_t> jpg = {0xff, 0xd8, 0xff, 0xc0, 0, 17, 8, 0xfd, 0xe8, 0xfd, 0xe8, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
                                      0xff, 0xda, 0, 12, 3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0, 0xff, 0xd9};
    expect_format_error([&] { decode(jpg, "big.jpg"); }, {"big.jpg is 65000×65000 pixels"});
    // GIF: a 65535 x 65535 screen with a 1 x 1 frame.
    const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 0xff, 0xff, 0xff, 0xff, 0, 0, 0,
                                      0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};
    expect_format_error([&] { decode(gif, "big.gif"); }, {"big.gif is 65535×65535 pixels"});
    // GIF: a small screen but a frame placed at (65000, 65000): the canvas would grow to hold it.
    const std::vector<uint8_t> gif2 = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0, 0, 0,
                                       0x2c, 0xe8, 0xfd, 0xe8, 0xfd, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};
    expect_format_error([&] { decode(gif2, "far.gif"); }, {"far.gif is 65001×65001 pixels"});
    // BMP: BITMAPINFOHEADER of 60000 x -60000 (top-down), 24-bit, no pixels.
    std::vector<uint8_t> bmp(54, 0);
    bmp[0] = 'B';
    bmp[1] = 'M';
    bmp[14] = 40;
    const uint32_t w = 60000, h = uint32_t(-60000);
    std::memcpy(&bmp[18], &w, 4);
    std::memcpy(&bmp[22], &h, 4);
    bmp[26] = 1;
    bmp[28] = 24;
    expect_format_error([&] { decode(bmp, "big.bmp"); }, {"big.bmp is 60000×60000 pixels"});
    // TIFF: little-endian, one directory with ImageWidth and ImageLength of 50000 (LONG).
    std::vector<uint8_t> tif = {'I', 'I', 42, 0, 8, 0, 0, 0, 2, 0};
    for (uint16_t tag : {uint16_t(256), uint16_t(257)}) {
        const uint8_t e[12] = {uint8_t(tag), uint8_t(tag >> 8), 4, 0, 1, 0, 0, 0, 0x50, 0xc3, 0, 0};
        tif.insert(tif.end(), e, e + 12);
    }
    tif.insert(tif.end(), {0, 0, 0, 0});
    expect_format_error([&] { decode(tif, "big.tiff"); }, {"big.tiff is 50000×50000 pixels"});
    // TIFF: a 16x16 image declaring 16384x12000 tiles (the decoder would allocate a whole tile).
    std::vector<uint8_t> tiles = {'I', 'I', 42, 0, 8, 0, 0, 0, 4, 0};
    for (const auto& [tag, value] : {std::pair<uint16_t, uint32_t>{256, 16}, {257, 16}, {322, 16384}, {323, 12000}}) {
        const uint8_t e[12] = {uint8_t(tag), uint8_t(tag >> 8), 4, 0, 1, 0, 0, 0,
                               uint8_t(value), uint8_t(value >> 8), uint8_t(value >> 16), 0};
        tiles.insert(tiles.end(), e, e + 12);
    }
    tiles.insert(tiles.end(), {0, 0, 0, 0});
    expect_format_error([&] { decode(tiles, "tiles.tiff"); }, {"tiles.tiff"});
    // WebP: an extended header with a 16384 x 16384 canvas.
    std::vector<uint8_t> webp = {'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0,
                                 0, 0, 0, 0, 0xff, 0x3f, 0, 0xff, 0x3f, 0};
    expect_format_error([&] { decode(webp, "big.webp"); }, {"big.webp is 16384×16384 pixels"});
}

TEST(ImageDecode, FuzzFindingsStaySafe) {
    // fuzz_image found these (reduced here): a GIF frame 0 pixels wide (nothing to copy, the
    // canvas still grows to the frame's height), and a WebP whose last chunk has an odd size and
    // no pad byte (the chunk walk stepped past the end).
    const std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 2, 0, 2, 0, 0, 0, 0,
                                      0x2c, 0, 0, 0, 0, 0, 0, 4, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3b};
    const gd::RgbImage g = decode(gif, "empty_frame.gif");
    EXPECT_EQ(g.width, 2);
    EXPECT_EQ(g.height, 4);
    std::vector<uint8_t> webp = {'R', 'I', 'F', 'F', 31, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'A', 'B', 'C', 'D', 1, 0, 0, 0, 7};
    EXPECT_THROW(decode(webp, "odd.webp"), gd::FormatError);  // no image data at all
}

TEST(ImageDecode, OpenCvNeverHandsTheBytesToGdal) {
    // fuzz_image found that a WebP whose RIFF size contradicts its VP8 chunk fails OpenCV's WebP
    // signature check, after which OpenCV's GDAL decoder claims any data with "DTED" at offset
    // 140, writes it to /tmp/__opencv_temp.* and runs all of GDAL's drivers on it. We refuse it
    // before OpenCV sees it; GDAL would say so on stderr, so stderr is captured and checked.
    std::vector<uint8_t> b = {'R', 'I', 'F', 'F', 36, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' ', 0xa2, 0, 0, 0,
                              0x70, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x0c, 0x00};
    b.resize(187, 0x55);
    std::memcpy(&b[140], "DTED", 4);
    const std::string log = gd::test::scratch_dir("OpenCvNeverHandsTheBytesToGdal") + "/stderr.txt";
    std::fflush(stderr);
    const int saved = dup(2);
    FILE* f = std::fopen(log.c_str(), "w");
    ASSERT_NE(f, nullptr);
    dup2(fileno(f), 2);
    bool refused = false;
    try {
        decode(b, "dted.webp");
    } catch (const gd::FormatError&) {
        refused = true;
    }
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::fclose(f);
    EXPECT_TRUE(refused);
    const std::vector<uint8_t> out = gd::test::read_file(log);
    const std::string text(out.begin(), out.end());
    EXPECT_EQ(text.find("opencv_temp"), std::string::npos) << text;
    EXPECT_EQ(text.find("ERROR 4"), std::string::npos) << text;
}

TEST(ImageDecode, RandomBytesAfterValidMagicNeverCrash) {
    // A cheap in-test fuzz: real headers followed by noise, and real files with bytes flipped.
    // Any outcome but a crash, a sanitizer report or a non-gd exception is fine.
    std::mt19937 rng(1234);
    gd::ImageLimits limits;
    limits.max_pixels = 1 << 20;
    for (const char* name : {"rgba_png", "jpeg_exif6", "webp_lossy", "bmp", "tiff_lzw", "palette_gif", "gray16_png"}) {
        const std::vector<uint8_t> base = image_bytes(name);
        for (int round = 0; round < 40; ++round) {
            std::vector<uint8_t> b = base;
            const int flips = 1 + int(rng() % 8);
            for (int k = 0; k < flips; ++k) b[16 + rng() % (b.size() - 16)] = uint8_t(rng());
            try {
                const gd::RgbImage img = decode(b, name, limits);
                EXPECT_EQ(img.pixels.size(), size_t(img.width * img.height * 3));
            } catch (const gd::FormatError&) {
            }
        }
    }
}

}  // namespace
