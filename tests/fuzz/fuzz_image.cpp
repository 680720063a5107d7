// libFuzzer target: the image decoder on arbitrary bytes (small limits, so a unit stays fast),
// then the reference preprocessing at a budget taken from the input. Any exception other than
// gd::Error, any crash, any sanitizer report and any broken invariant is a finding.
#include <cstddef>
#include <cstdint>

#include "common/error.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    gd::ImageLimits limits;
    limits.max_file_bytes = 1 << 20;
    limits.max_pixels = 1 << 18;  // 512x512: decoding and resizing stay in the milliseconds
    limits.max_side = 1 << 14;
    gd::RgbImage image;
    try {
        image = gd::decode_image_bytes(data, size, "fuzz.img", limits);
    } catch (const gd::Error&) {
        return 0;
    }
    if (image.width <= 0 || image.height <= 0 || image.width > limits.max_side || image.height > limits.max_side ||
        image.width * image.height > limits.max_pixels || image.pixels.size() != size_t(image.width * image.height * 3)) {
        __builtin_trap();
    }
    // Budgets 1..70 keep the resized image small; the last byte picks one.
    const int64_t budget = 1 + (size > 0 ? data[size - 1] : 0) % 70;
    try {
        const gd::PatchedImage p = gd::preprocess_image(image, budget);
        const size_t patches = p.pos_x.size();
        if (p.size.soft_tokens() > budget || p.patches.size() != patches * 768 || p.pos_y.size() != patches ||
            p.resized.pixels.size() != size_t(p.size.height * p.size.width * 3)) {
            __builtin_trap();
        }
        for (float v : p.patches) {
            if (!(v >= 0.0f && v <= 1.0f)) __builtin_trap();
        }
    } catch (const gd::Error&) {
        // A strip too thin for the sizing rule at this budget, as the reference raises.
    }
    return 0;
}
