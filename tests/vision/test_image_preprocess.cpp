// The reference image processor (spec §3.2): the budget -> size rule, the antialiased bicubic
// resize, the rescale and the patch layout, against transformers' Gemma4ImageProcessor output
// recorded by tools/reference/dump_image_reference.py.
//
// Tolerance for the resized pixels: none. The reference's CPU uint8 kernel computes its filter
// weights in double and then works in integers only (int16 weights at one fixed-point precision
// per axis, int32 sums, an arithmetic shift, a clamp, a uint8 buffer between the passes). We
// compute the weights with the same double operations in the same order, so the int16 weights
// are identical and every later step is exact integer arithmetic: the pixels must be identical.
// A difference of 1 could only come from a double weight landing within an ulp of a rounding
// boundary of its int16 conversion (e.g. a compiler contracting a*b+c into an FMA), which would
// move that weight by one unit in 2^precision (>= 2^13 here) and a sum by at most 255 units, so
// it could flip a rounding only rarely and never by more than 1. The checks report the maximum
// difference and the count of differing values, so such a drift would be visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.h"
#include "support/test_support.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_preprocess.h"

namespace {

using nlohmann::json;

std::string vision_dir() { return gd::test::data_dir() + "/vision"; }

const json& reference() { return gd::test::data_json("vision/image_reference/image_reference.json"); }

// The script's checksum: sum(word_i * (2 i + 1)) mod 2^64 over 32-bit words.
std::string checksum(const std::vector<uint32_t>& words) {
    uint64_t s = 0;
    for (size_t i = 0; i < words.size(); ++i) s += uint64_t(words[i]) * (2 * uint64_t(i) + 1);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(s));
    return buf;
}

std::string patches_checksum(const gd::PatchedImage& p) {
    std::vector<uint32_t> w(p.patches.size());
    for (size_t i = 0; i < w.size(); ++i) w[i] = std::bit_cast<uint32_t>(p.patches[i]);
    return checksum(w);
}

std::string positions_checksum(const gd::PatchedImage& p) {
    std::vector<uint32_t> w;
    for (size_t i = 0; i < p.pos_x.size(); ++i) {
        w.push_back(uint32_t(p.pos_x[i]));
        w.push_back(uint32_t(p.pos_y[i]));
    }
    return checksum(w);
}

gd::RgbImage reference_image(const std::string& name) {
    return gd::decode_image_file(vision_dir() + "/" + reference()["images"][name]["file"].get<std::string>());
}

// ---------------------------------------------------------------------------------------------
// Sizing
// ---------------------------------------------------------------------------------------------

TEST(ImagePreprocess, SpecSizingTable) {
    // Spec §3.2, all 20 cells: input height x width -> resized height x width, soft tokens.
    struct Cell {
        int64_t h, w, budget, th, tw, tokens;
    };
    const Cell cells[] = {
        {1000, 1000, 70, 384, 384, 64},    {768, 1024, 70, 336, 432, 63},     {1080, 1920, 70, 288, 528, 66},
        {224, 224, 70, 384, 384, 64},      {1000, 1000, 140, 528, 528, 121},  {768, 1024, 140, 480, 624, 130},
        {1080, 1920, 140, 384, 720, 120},  {224, 224, 140, 528, 528, 121},    {1000, 1000, 280, 768, 768, 256},
        {768, 1024, 280, 672, 912, 266},   {1080, 1920, 280, 576, 1056, 264}, {224, 224, 280, 768, 768, 256},
        {1000, 1000, 560, 1104, 1104, 529}, {768, 1024, 560, 960, 1296, 540}, {1080, 1920, 560, 816, 1488, 527},
        {224, 224, 560, 1104, 1104, 529},  {1000, 1000, 1120, 1584, 1584, 1089}, {768, 1024, 1120, 1344, 1824, 1064},
        {1080, 1920, 1120, 1200, 2112, 1100}, {224, 224, 1120, 1584, 1584, 1089},
    };
    for (const Cell& c : cells) {
        const gd::ImageTargetSize s = gd::image_target_size(c.h, c.w, c.budget);
        EXPECT_EQ(s.height, c.th) << c.h << "x" << c.w << " @" << c.budget;
        EXPECT_EQ(s.width, c.tw) << c.h << "x" << c.w << " @" << c.budget;
        EXPECT_EQ(s.soft_tokens(), c.tokens) << c.h << "x" << c.w << " @" << c.budget;
        EXPECT_EQ(s.patches(), c.tokens * 9);
        EXPECT_LE(s.soft_tokens(), c.budget);
    }
}

TEST(ImagePreprocess, SizingMatchesTheReferenceFunctionIncludingEdges) {
    // get_aspect_ratio_preserving_size on shapes from 1x1 to 65535x65535 and thin strips (the
    // th == 0 / tw == 0 branches), at official and other budgets; where it raises, so do we.
    int checked = 0, errors = 0;
    for (const json& c : reference()["sizing"]) {
        const int64_t h = c["height"], w = c["width"], b = c["budget"];
        SCOPED_TRACE(std::to_string(h) + "x" + std::to_string(w) + " @" + std::to_string(b));
        if (c.contains("error")) {
            EXPECT_THROW(gd::image_target_size(h, w, b), gd::Error);
            ++errors;
        } else {
            const gd::ImageTargetSize s = gd::image_target_size(h, w, b);
            EXPECT_EQ(s.height, c["target"][0].get<int64_t>());
            EXPECT_EQ(s.width, c["target"][1].get<int64_t>());
            EXPECT_EQ(s.soft_tokens(), c["soft_tokens"].get<int64_t>());
        }
        ++checked;
    }
    EXPECT_GT(checked, 200);
    EXPECT_GT(errors, 0);  // 1-pixel-high strips at small budgets round both sides to 0
}

TEST(ImagePreprocess, BudgetOutsideTheRuleIsRefused) {
    EXPECT_THROW(gd::image_target_size(100, 100, 0), gd::Error);
    EXPECT_THROW(gd::image_target_size(100, 100, 1121), gd::Error);
    EXPECT_THROW(gd::image_target_size(0, 100, 280), gd::Error);
    EXPECT_THROW(gd::preprocess_image(gd::RgbImage{}, 280), gd::Error);
}

// ---------------------------------------------------------------------------------------------
// Pixels
// ---------------------------------------------------------------------------------------------

// One test per recorded (image, budget), so ctest runs them in parallel: target size and tokens;
// the resized uint8 image where it is stored (every downscale, upscales up to 0.4 MP); and
// pixel_values and position ids by checksum everywhere (exact: the float32 bit patterns, in order).
class ReferenceCase : public ::testing::TestWithParam<size_t> {};

TEST_P(ReferenceCase, MatchesTheReferenceProcessor) {
    const json& c = reference()["cases"][GetParam()];
    const std::string name = c["image"];
    const int64_t budget = c["budget"];
    const gd::PatchedImage p = gd::preprocess_image(reference_image(name), budget);
    ASSERT_EQ(p.size.height, c["height"].get<int64_t>());
    ASSERT_EQ(p.size.width, c["width"].get<int64_t>());
    EXPECT_EQ(p.size.soft_tokens(), c["soft_tokens"].get<int64_t>());
    ASSERT_EQ(int64_t(p.pos_x.size()), c["patches"].get<int64_t>());
    if (c.contains("resized")) {
        const gd::RgbImage want = gd::decode_image_file(vision_dir() + "/" + c["resized"].get<std::string>());
        ASSERT_EQ(want.pixels.size(), p.resized.pixels.size());
        int max_diff = 0;
        size_t differing = 0;
        for (size_t i = 0; i < want.pixels.size(); ++i) {
            const int d = std::abs(int(want.pixels[i]) - int(p.resized.pixels[i]));
            max_diff = std::max(max_diff, d);
            differing += d != 0;
        }
        std::printf("%s @%lld -> %lldx%lld: max diff %d, %zu of %zu values differ\n", name.c_str(),
                    static_cast<long long>(budget), static_cast<long long>(p.size.height),
                    static_cast<long long>(p.size.width), max_diff, differing, want.pixels.size());
        EXPECT_EQ(max_diff, 0);
    }
    EXPECT_EQ(patches_checksum(p), c["pixel_values_checksum"].get<std::string>());
    EXPECT_EQ(positions_checksum(p), c["position_ids_checksum"].get<std::string>());
}

std::vector<size_t> case_indices() {
    std::vector<size_t> v(reference()["cases"].size());
    for (size_t i = 0; i < v.size(); ++i) v[i] = i;
    return v;
}

INSTANTIATE_TEST_SUITE_P(Image, ReferenceCase, ::testing::ValuesIn(case_indices()),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                             const json& c = reference()["cases"][param_info.param];
                             return c["image"].get<std::string>() + "_b" + std::to_string(c["budget"].get<int64_t>());
                         });

TEST(ImagePreprocess, ReferenceCoversManyCases) {
    int with_pixels = 0;
    for (const json& c : reference()["cases"]) with_pixels += c.contains("resized");
    EXPECT_GT(reference()["cases"].size(), 50u);
    EXPECT_GT(with_pixels, 40);
}

TEST(ImagePreprocess, FullPixelValuesAndPositionsOfOneImage) {
    // tiny_5x7 at budget 3: upscaled to 48x96, a 3x6 patch grid (not square, so rows and columns
    // cannot be confused), every float of pixel_values stored by the script.
    const json* found = nullptr;
    for (const json& c : reference()["cases"])
        if (c.contains("pixel_values_f32")) found = &c;
    ASSERT_NE(found, nullptr);
    const json& c = *found;
    const gd::PatchedImage p = gd::preprocess_image(reference_image(c["image"]), c["budget"].get<int64_t>());
    const std::vector<uint8_t> raw = gd::test::read_file(vision_dir() + "/" + c["pixel_values_f32"].get<std::string>());
    ASSERT_EQ(raw.size(), p.patches.size() * 4);
    ASSERT_EQ(p.size.grid_height(), 3);
    ASSERT_EQ(p.size.grid_width(), 6);
    for (size_t i = 0; i < p.patches.size(); ++i) {
        float want;
        std::memcpy(&want, &raw[i * 4], 4);
        ASSERT_EQ(std::bit_cast<uint32_t>(p.patches[i]), std::bit_cast<uint32_t>(want)) << "value " << i;
    }
    const json& pos = c["position_ids"];
    ASSERT_EQ(pos.size(), p.pos_x.size());
    for (size_t i = 0; i < pos.size(); ++i) {
        EXPECT_EQ(p.pos_x[i], pos[i][0].get<int32_t>());  // column
        EXPECT_EQ(p.pos_y[i], pos[i][1].get<int32_t>());  // row
    }
}

TEST(ImagePreprocess, PatchLayoutIsRasterOrderWithChannelFastest) {
    // An image of exactly a target size (no resize) whose pixel values say where they are.
    gd::RgbImage img;
    img.height = 96;
    img.width = 144;  // budget 6: 96x144 -> 6x9 patches, 6 soft tokens
    img.pixels.resize(size_t(img.height * img.width * 3));
    for (int64_t y = 0; y < img.height; ++y)
        for (int64_t x = 0; x < img.width; ++x)
            for (int c = 0; c < 3; ++c) img.pixels[size_t((y * img.width + x) * 3 + c)] = uint8_t((y * 7 + x * 3 + c * 101) % 256);
    const gd::PatchedImage p = gd::preprocess_image(img, 6);
    ASSERT_EQ(p.size.height, 96);
    ASSERT_EQ(p.size.width, 144);
    EXPECT_EQ(p.resized.pixels, img.pixels);  // no resize when the size already matches
    ASSERT_EQ(p.pos_x.size(), 54u);
    for (int64_t n = 0; n < 54; ++n) {
        const int64_t gy = n / 9, gx = n % 9;
        EXPECT_EQ(p.pos_x[size_t(n)], gx);
        EXPECT_EQ(p.pos_y[size_t(n)], gy);
        for (int64_t py = 0; py < 16; ++py)
            for (int64_t px = 0; px < 16; ++px)
                for (int c = 0; c < 3; ++c) {
                    const float v = p.patches[size_t(n * 768 + (py * 16 + px) * 3 + c)];
                    const uint8_t u = img.at(gy * 16 + py, gx * 16 + px)[c];
                    ASSERT_EQ(v, float(u) * float(1.0 / 255.0));
                }
    }
    EXPECT_EQ(p.patches.front(), 0.0f);
    for (float v : p.patches) ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
}

TEST(ImagePreprocess, ResizeEdges) {
    gd::RgbImage one;
    one.width = one.height = 1;
    one.pixels = {10, 200, 30};
    const gd::RgbImage big = gd::resize_bicubic_antialias(one, 48, 96);  // a 1-pixel image stays flat
    for (size_t i = 0; i < big.pixels.size(); i += 3) {
        ASSERT_EQ(big.pixels[i], 10);
        ASSERT_EQ(big.pixels[i + 1], 200);
        ASSERT_EQ(big.pixels[i + 2], 30);
    }
    const gd::RgbImage same = gd::resize_bicubic_antialias(big, 48, 96);
    EXPECT_EQ(same.pixels, big.pixels);
    EXPECT_THROW(gd::resize_bicubic_antialias(one, 0, 5), gd::Error);
    EXPECT_THROW(gd::resize_bicubic_antialias(gd::RgbImage{}, 5, 5), gd::Error);
    // Extreme ratios stay in range (the weights of a 3000:1 shrink are tiny and many).
    gd::RgbImage strip;
    strip.height = 2;
    strip.width = 6000;
    strip.pixels.resize(2 * 6000 * 3);
    for (size_t i = 0; i < strip.pixels.size(); ++i) strip.pixels[i] = uint8_t(i * 37 % 256);
    const gd::RgbImage tiny = gd::resize_bicubic_antialias(strip, 1, 2);
    EXPECT_EQ(tiny.pixels.size(), 6u);
}

TEST(ImagePreprocess, UhdResizeTiming) {
    // 3840x2160 -> 2112x1200 (budget 1120): tens of ms in a release build; sanitizers and -O0
    // make this build much slower, so the bound here only catches an accidental quadratic.
    const gd::RgbImage img = reference_image("uhd_2160x3840");
    const auto t0 = std::chrono::steady_clock::now();
    const gd::PatchedImage p = gd::preprocess_image(img, 1120);
    const double resize_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const auto t1 = std::chrono::steady_clock::now();
    const gd::RgbImage r = gd::resize_bicubic_antialias(img, 1200, 2112);
    const double only_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    std::printf("4K -> 1200x2112: resize %.1f ms, resize + patches %.1f ms\n", only_ms, resize_ms);
    EXPECT_EQ(r.pixels, p.resized.pixels);
    EXPECT_LT(only_ms, 60000.0);
}

}  // namespace
