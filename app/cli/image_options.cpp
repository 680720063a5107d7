// The --image options of generate and encode (declared in engine_options.h): decoding the files
// before the model loads, encoding them through the vision tower, and their --json report. Apart
// from the model options so that a binary without image input (gemmadesk-bench) links no decoder.
#include <cstdio>

#include "engine_options.h"
#include "vision/image/image_decode.h"
#include "vision/image/image_preprocess.h"

namespace gd::cli {

const std::set<std::string> kImageOptions = {"image", "image-tokens"};
const char* kImageOptionsHelp =
    "  --image FILE       an image (PNG, JPEG, WebP, BMP, TIFF, GIF); repeat for several, in order\n"
    "  --image-tokens N   soft tokens per image: 70, 140, 280 (default), 560 or 1120; any 1..1120 for experiments\n";

int64_t image_tokens(const ParsedArgs& a) {
    const uint64_t n = parse_uint(a.value_or("image-tokens", std::to_string(kDefaultImageTokens)), "--image-tokens");
    if (n < 1 || n > static_cast<uint64_t>(kMaxImageTokens)) {
        throw UsageError("--image-tokens: " + std::to_string(n) + " is outside 1.." + std::to_string(kMaxImageTokens) +
                         " (the official budgets are 70, 140, 280, 560 and 1120)");
    }
    return static_cast<int64_t>(n);
}

ImageArgs decode_images(const ParsedArgs& a) {
    ImageArgs out;
    out.budget = image_tokens(a);
    out.files = a.values("image");
    for (const std::string& file : out.files) out.images.push_back(decode_image_file(file));
    return out;
}

std::vector<std::shared_ptr<const MediaEmbedding>> encode_images(Model& model, const ImageArgs& in, bool quiet) {
    std::vector<std::shared_ptr<const MediaEmbedding>> out;
    for (size_t i = 0; i < in.images.size(); ++i) {
        const RgbImage& image = in.images[i];
        auto m = model.encode_image(image, in.budget);
        if (!quiet) {
            std::fprintf(stderr, "[%s: %lldx%lld -> %lldx%lld, %lld soft tokens, encoded in %.0f ms]\n", in.files[i].c_str(),
                         static_cast<long long>(image.width), static_cast<long long>(image.height),
                         static_cast<long long>(m->image_width), static_cast<long long>(m->image_height),
                         static_cast<long long>(m->tokens), m->encode_seconds * 1000);
        }
        out.push_back(std::move(m));
    }
    return out;
}

nlohmann::json image_report(const std::string& file, const MediaEmbedding& m) {
    return {{"file", file},
            {"width", m.image_width},
            {"height", m.image_height},
            {"grid", {m.grid_width, m.grid_height}},
            {"tokens", m.tokens},
            {"encode_seconds", m.encode_seconds}};
}

}  // namespace gd::cli
