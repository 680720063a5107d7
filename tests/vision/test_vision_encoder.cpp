// The CPU vision tower against transformers (tools/reference/dump_vision_reference.py): every named
// intermediate (patch_embd, v_out-N, pooled, soft_tokens) of every tiny variant and image case, from
// the safetensors folder and from the GGUF + mmproj made with the same seed (make-test-model writes
// the same values in both formats, the patch embedding as a conv kernel in the mmproj). Plus the
// tower's errors: no tower, a missing tensor, images that do not fit, and cancellation.
//
// Tolerances as in the decoder test: the reference script runs every case in float64 too and
// records the f32 reference's own error per tensor (`f32_error`, relative to max|x|). Two f32
// results each within e of the exact one differ by up to 2e; the bound is 3e, with a floor of 1e-6.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "backend/backend.h"
#include "common/error.h"
#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "model/model_files.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"
#include "vision/encoder/vision_encoder.h"

namespace gd::test {
namespace {

namespace fs = std::filesystem;

constexpr double kErrorFactor = 3.0;
constexpr double kErrorFloor = 1e-6;

const nlohmann::json& vision_cases() { return data_json("reference/vision_cases.json"); }

std::map<std::string, std::vector<float>> reference_tensors(const std::string& file) {
    return data_tensors("reference/" + file);
}

// The image of the reference script: value(row, col, c) = ((col*37 + row*91 + c*53 +
// ((col*row) % 29)*7) % 256) / 255 in f32, cut into 16x16 patches in raster order, (py, px, c).
PatchedImage formula_image(int64_t grid_w, int64_t grid_h) {
    PatchedImage im;
    im.size.patch = 16;
    im.size.pool = 3;
    im.size.width = grid_w * 16;
    im.size.height = grid_h * 16;
    for (int64_t gy = 0; gy < grid_h; ++gy)
        for (int64_t gx = 0; gx < grid_w; ++gx) {
            for (int64_t py = 0; py < 16; ++py)
                for (int64_t px = 0; px < 16; ++px)
                    for (int64_t c = 0; c < 3; ++c) {
                        const int64_t row = gy * 16 + py, col = gx * 16 + px;
                        const int64_t v = (col * 37 + row * 91 + c * 53 + ((col * row) % 29) * 7) % 256;
                        im.patches.push_back(static_cast<float>(v) / 255.0f);
                    }
            im.pos_x.push_back(static_cast<int32_t>(gx));
            im.pos_y.push_back(static_cast<int32_t>(gy));
        }
    return im;
}

struct Encoded {
    std::map<std::string, std::vector<float>> tensors;
    std::vector<float> soft;
};

Encoded encode(const std::string& path, const PatchedImage& image, int threads = 2) {
    const ModelFiles files = ModelFiles::open({path});
    auto backend = make_cpu_backend(threads);
    VisionEncoder enc(files, *backend);
    Encoded r;
    r.soft = enc.encode(image, [&](const std::string& name, const Tensor& t) {
        std::vector<float> h(static_cast<size_t>(t.elements()));
        backend->download(t, h.data());
        EXPECT_EQ(r.tensors.count(name), 0u) << name << " observed twice";
        r.tensors[name] = std::move(h);
    });
    return r;
}

std::string tight_clip_model(double divisor) {
    const std::string src = tiny_model(Variant::E2B, false);
    return rewritten_model(src, "vision-tightclip",
                           [divisor](const std::string& name, DType type, uint8_t* b, uint64_t n) {
                               const bool bound = name.rfind("model.vision_tower.", 0) == 0 &&
                                                  (name.ends_with(".output_min") || name.ends_with(".output_max"));
                               if (bound) {
                                   EXPECT_EQ(type, DType::F32);
                                   EXPECT_EQ(n, 4u);
                                   float v;
                                   std::memcpy(&v, b, 4);
                                   v = static_cast<float>(v / divisor);  // a power of two: exact, as in the reference
                                   std::memcpy(b, &v, 4);
                               }
                               return true;
                           });
}

void compare_case(const nlohmann::json& c, bool gguf) {
    const Variant variant = *variant_from_name(c.at("variant").get<std::string>());
    const int64_t gw = c.at("grid_w").get<int64_t>(), gh = c.at("grid_h").get<int64_t>();
    const PatchedImage image = formula_image(gw, gh);
    double pixel_sum = 0;
    for (float v : image.patches) pixel_sum += v;
    ASSERT_NEAR(pixel_sum, c.at("pixel_sum").get<double>(), 1e-6 * pixel_sum)
        << "the pixel formula differs from the script's";

    std::string path;
    if (c.contains("output_bounds_divided_by")) {
        if (gguf) GTEST_SKIP() << "the tightened-bounds case is checked from the safetensors folder";
        path = tight_clip_model(c.at("output_bounds_divided_by").get<double>());
    } else {
        path = tiny_model(variant, gguf);
    }
    const Encoded got = encode(path, image);
    const auto ref = reference_tensors(c.at("file").get<std::string>());
    const std::string where = c.at("file").get<std::string>() + (gguf ? " (gguf)" : " (safetensors)");
    int compared = 0;
    for (const auto& [name, want] : ref) {
        auto it = got.tensors.find(name);
        ASSERT_NE(it, got.tensors.end()) << "the encoder did not produce " << name;
        const double err = relative_error(it->second, want);
        const double ref_error = c.at("f32_error").at(name).get<double>();
        const double tol = std::max(kErrorFactor * ref_error, kErrorFloor);
        if (std::getenv("GD_PRINT_ERRORS"))
            std::printf("%-40s %-12s error %.3g reference's own %.3g\n", where.c_str(), name.c_str(), err, ref_error);
        EXPECT_LE(err, tol) << where << " " << name;
        ++compared;
    }
    EXPECT_GE(compared, 2);
    // Every intermediate is produced, stored in the reference or not.
    const int64_t layers = c.at("config").at("num_hidden_layers").get<int64_t>();
    for (int64_t i = 0; i < layers; ++i) EXPECT_TRUE(got.tensors.count("v_out-" + std::to_string(i))) << i;
    EXPECT_TRUE(got.tensors.count("patch_embd"));
    EXPECT_EQ(got.soft, got.tensors.at("soft_tokens"));
    EXPECT_EQ(static_cast<int64_t>(got.soft.size()),
              c.at("soft_tokens").get<int64_t>() * c.at("config").at("text_hidden_size").get<int64_t>());
}

std::vector<int> case_indices() {
    std::vector<int> v;
    for (size_t i = 0; i < vision_cases().at("cases").size(); ++i) v.push_back(static_cast<int>(i));
    return v;
}

class VisionReference : public ::testing::TestWithParam<int> {};

TEST_P(VisionReference, SafetensorsMatchesTransformers) {
    compare_case(vision_cases().at("cases").at(GetParam()), false);
}
TEST_P(VisionReference, GgufMatchesTransformers) { compare_case(vision_cases().at("cases").at(GetParam()), true); }

std::string case_name(const ::testing::TestParamInfo<int>& p) {
    const nlohmann::json& c = vision_cases().at("cases").at(p.param);
    std::string n = c.at("variant").get<std::string>() + "_" + c.at("case").get<std::string>();
    for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, VisionReference, ::testing::ValuesIn(case_indices()), case_name);

TEST(VisionEncoder, TheReferenceExercisesEveryClamp) {
    // Guards the reference data itself: the clipped tower's input bounds bite in the plain cases
    // and its output bounds in the tightened one, so skipping either clamp fails a test above.
    int64_t inputs = 0, outputs = 0;
    for (const auto& c : vision_cases().at("cases")) {
        if (c.at("variant") != "e2b") continue;
        inputs += c.at("clamped").at("inputs").get<int64_t>();
        outputs += c.at("clamped").at("outputs").get<int64_t>();
    }
    EXPECT_GT(inputs, 1000);
    EXPECT_GT(outputs, 1000);
}

// The same models stored in other types: bf16 safetensors (every tensor, the 0-d clip bounds and the
// position table too, as in the release checkpoints), an f16 mmproj (the conv-layout patch embedding
// decoded from f16) and a q8_0 mmproj (quantized matrices). Their weights are the f32 ones rounded,
// so the soft tokens only stay close to the f32 reference: the bound is a sanity check of the
// decoding paths (a mis-read tensor gives errors of order 1), not a parity tolerance.
TEST(VisionEncoder, OtherStoredTypesStayClose) {
    const nlohmann::json* c = nullptr;
    for (const auto& x : vision_cases().at("cases"))
        if (x.at("variant") == "e2b" && x.at("case") == "12x6") c = &x;
    ASSERT_NE(c, nullptr);
    const auto ref = reference_tensors(c->at("file").get<std::string>());
    const PatchedImage image = formula_image(12, 6);
    // Measured: 0.016 (bf16), 0.0016 (f16), 0.023 (q8_0).
    const struct {
        bool gguf;
        DType type;
        double bound;
    } kinds[] = {{false, DType::BF16, 0.05}, {true, DType::F16, 0.005}, {true, DType::Q8_0, 0.05}};
    for (const auto& k : kinds) {
        const std::string path = tiny_model(Variant::E2B, k.gguf, 1, k.type);
        const double err = relative_error(encode(path, image).soft, ref.at("soft_tokens"));
        if (std::getenv("GD_PRINT_ERRORS"))
            std::printf("%s %s: soft_tokens error %.3g\n", k.gguf ? "gguf" : "safetensors", dtype_name(k.type), err);
        EXPECT_LT(err, k.bound) << dtype_name(k.type);
    }
}

TEST(VisionEncoder, ThreadCountDoesNotChangeTheResult) {
    const PatchedImage image = formula_image(12, 6);
    const std::string path = tiny_model(Variant::A26B, false);
    EXPECT_EQ(encode(path, image, 1).soft, encode(path, image, 3).soft);
}

TEST(VisionEncoder, OutputWidthAndWeights) {
    const ModelFiles files = ModelFiles::open({tiny_model(Variant::E4B, true)});
    auto backend = make_cpu_backend(1);
    VisionEncoder enc(files, *backend);
    EXPECT_EQ(enc.output_width(), files.config().text.hidden_size);
    EXPECT_GT(enc.weight_bytes(), 0u);
}

void place_vision_tower(const ModelFiles& files) {
    auto backend = make_cpu_backend(1);
    VisionEncoder enc(files, *backend);
}

TEST(VisionEncoder, NoTowerIsAModelError) {
    // A GGUF opened without its mmproj has no vision tower.
    expect_model_error(tiny_model(Variant::E2B, true), place_vision_tower, "vision", false);
}

TEST(VisionEncoder, MissingTowerTensorIsAModelErrorNamingIt) {
    const std::string gone = "model.vision_tower.encoder.layers.1.mlp.down_proj.output_max";
    expect_model_error(model_without_tensor(gone, "vision-missing"), place_vision_tower, gone);
}

TEST(VisionEncoder, NanClipBoundIsAModelError) {
    expect_model_error(model_with_nan("model.vision_tower.encoder.layers.0.self_attn.k_proj.input_min", 0, "vision-nan"),
                       place_vision_tower, "v.blk.0.attn_k.input_min");
}

TEST(VisionEncoder, CancelIsCheckedBetweenLayers) {
    const ModelFiles files = ModelFiles::open({tiny_model(Variant::E2B, false)});
    auto backend = make_cpu_backend(1);
    VisionEncoder enc(files, *backend);
    const PatchedImage image = formula_image(6, 3);
    std::atomic<bool> cancel{true};
    EXPECT_THROW(enc.encode(image, {}, &cancel), Cancelled);
    // Set while layer 0 finishes: layer 1 never runs.
    cancel = false;
    std::vector<std::string> seen;
    EXPECT_THROW(enc.encode(
                     image,
                     [&](const std::string& name, const Tensor&) {
                         seen.push_back(name);
                         if (name == "v_out-0") cancel = true;
                     },
                     &cancel),
                 Cancelled);
    EXPECT_EQ(seen, (std::vector<std::string>{"patch_embd", "v_out-0"}));
    // And the encoder still works afterwards.
    cancel = false;
    EXPECT_EQ(enc.encode(image, {}, &cancel).size(), 2u * static_cast<size_t>(files.config().text.hidden_size));
}

TEST(VisionEncoder, ImagesThatDoNotFitAreErrors) {
    const ModelFiles files = ModelFiles::open({tiny_model(Variant::A26B, false)});
    auto backend = make_cpu_backend(1);
    VisionEncoder enc(files, *backend);
    const PatchedImage good = formula_image(6, 3);
    EXPECT_EQ(enc.encode(good).size(), 2u * static_cast<size_t>(enc.output_width()));

    PatchedImage im = good;
    im.patches.pop_back();  // patch values do not match the patch count
    EXPECT_THROW(enc.encode(im), Error);
    im = good;
    im.pos_x.pop_back();  // one position short
    EXPECT_THROW(enc.encode(im), Error);
    im = good;
    std::swap(im.pos_x[0], im.pos_x[1]);  // not raster order
    EXPECT_THROW(enc.encode(im), Error);
    im = good;
    im.size.width = 5 * 16;  // the grid no longer matches the patches, nor whole 3x3 blocks
    EXPECT_THROW(enc.encode(im), Error);
    im = formula_image(4, 3);  // 4 is not a multiple of the pooling size
    EXPECT_THROW(enc.encode(im), Error);
    im = good;
    im.size.patch = 14;  // cut for another patch size
    EXPECT_THROW(enc.encode(im), Error);
    im = formula_image(129, 3);  // wider than the tiny tower's position table (128)
    EXPECT_THROW(enc.encode(im), Error);
    PatchedImage empty;
    EXPECT_THROW(enc.encode(empty), Error);
}

}  // namespace
}  // namespace gd::test
