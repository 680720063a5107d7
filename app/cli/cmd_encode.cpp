// gemmadesk-cli encode --model PATH [--mmproj PATH] --image FILE [--image-tokens N] [--json]
// Runs one image through the preprocessing and the vision tower and prints the soft tokens the text
// model would receive (after the embedder): with --json one object
//   {"kind":"image","file":F,"width":W,"height":H,"grid":[gw,gh],"tokens":N,"encode_seconds":S,
//    "embeddings":[[...], ...]}
// with W x H the size after resizing; without --json a one-line summary.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine_options.h"

namespace gd::cli {

int cmd_encode(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli encode --model PATH [--mmproj PATH] --image FILE [--image-tokens N] [--json]\n";
    const ParsedArgs a(args, options_union({kModelOptions, kImageOptions}), {"json", "help"});
    if (a.flag("help")) {
        std::printf("%s%s%s", usage, kModelOptionsHelp, kImageOptionsHelp);
        return 0;
    }
    const std::vector<std::string> files = a.values("image");
    if (files.size() != 1) throw UsageError("give one --image FILE");
    const ImageArgs images = decode_images(a);  // a bad budget or file fails before the model loads
    const bool json = a.flag("json");
    auto model = load_model(a, json);
    const auto media = encode_images(*model, images, json);
    const MediaEmbedding& m = *media.at(0);
    if (!json) {
        double sum_sq = 0;
        for (float v : m.data) sum_sq += static_cast<double>(v) * v;
        std::printf("%s: %lldx%lld, %lld soft tokens of width %lld, rms %.6g, %.1f ms\n", files[0].c_str(),
                    static_cast<long long>(m.image_width), static_cast<long long>(m.image_height),
                    static_cast<long long>(m.tokens), static_cast<long long>(m.width),
                    std::sqrt(sum_sq / static_cast<double>(std::max<size_t>(1, m.data.size()))), m.encode_seconds * 1000);
        return 0;
    }
    nlohmann::json out = image_report(files[0], m);
    out["kind"] = "image";
    nlohmann::json rows = nlohmann::json::array();
    for (int64_t r = 0; r < m.tokens; ++r) {
        const float* row = m.data.data() + r * m.width;
        rows.push_back(std::vector<float>(row, row + m.width));
    }
    out["embeddings"] = std::move(rows);
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

}  // namespace gd::cli
