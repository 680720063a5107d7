// gemmadesk-cli encode --model PATH [--mmproj PATH] (--image FILE [--image-tokens N] | --audio FILE) [--json]
// Runs one image through the preprocessing and the vision tower, or one audio clip through the audio
// tower, and prints the soft tokens the text model would receive (after the embedder, exactly the
// rows inserted at the placeholders): with --json one object
//   {"kind":"image","file":F,"width":W,"height":H,"grid":[gw,gh],"tokens":N,"encode_seconds":S,
//    "embeddings":[[...], ...]}     (W x H the size after resizing)
//   {"kind":"audio","file":F,"seconds":T,"tokens":N,"pieces":P,"encode_seconds":S,"source_rate":R,
//    "source_channels":C,"codec":K,"embeddings":[[...], ...]}
// without --json a one-line summary.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "audio_options.h"
#include "commands.h"
#include "engine_options.h"

namespace gd::cli {

namespace {
double rms(const MediaEmbedding& m) {
    double sum_sq = 0;
    for (float v : m.data) sum_sq += static_cast<double>(v) * v;
    return std::sqrt(sum_sq / static_cast<double>(std::max<size_t>(1, m.data.size())));
}

nlohmann::json rows(const MediaEmbedding& m) {
    nlohmann::json out = nlohmann::json::array();
    for (int64_t r = 0; r < m.tokens; ++r) {
        const float* row = m.data.data() + r * m.width;
        out.push_back(std::vector<float>(row, row + m.width));
    }
    return out;
}
}  // namespace

int cmd_encode(const Args& args) {
    static const char* usage =
        "usage: gemmadesk-cli encode --model PATH [--mmproj PATH] (--image FILE [--image-tokens N] | --audio FILE) [--json]\n";
    const ParsedArgs a(args, options_union({kModelOptions, kImageOptions, kAudioOptions}), {"json", "help"});
    if (a.flag("help")) {
        std::printf("%s%s%s%s", usage, kModelOptionsHelp, kImageOptionsHelp, audio_options_help().c_str());
        return 0;
    }
    const std::vector<std::string> images = a.values("image"), sounds = a.values("audio");
    if (images.size() + sounds.size() != 1) throw UsageError("give one --image FILE or one --audio FILE");
    if (a.value("image-tokens") && images.empty()) throw UsageError("--image-tokens goes with --image");
    const bool json = a.flag("json");
    nlohmann::json out;
    std::shared_ptr<const MediaEmbedding> media;
    if (!images.empty()) {
        const ImageArgs decoded = decode_images(a);  // a bad budget or file fails before the model loads
        auto model = load_model(a, json);
        media = encode_images(*model, decoded, json).at(0);
        if (!json) {
            std::printf("%s: %lldx%lld, %lld soft tokens of width %lld, rms %.6g, %.1f ms\n", images[0].c_str(),
                        static_cast<long long>(media->image_width), static_cast<long long>(media->image_height),
                        static_cast<long long>(media->tokens), static_cast<long long>(media->width), rms(*media),
                        media->encode_seconds * 1000);
            return 0;
        }
        out = image_report(images[0], *media);
        out["kind"] = "image";
    } else {
        const AudioArgs decoded = decode_audio_files(sounds);  // a bad file fails before the model loads
        auto model = load_model(a, json);
        media = encode_audio_clips(*model, decoded, json).at(0);
        if (!json) {
            std::printf("%s: %.2f s, %lld soft tokens of width %lld in %lld piece%s, rms %.6g, %.1f ms\n", sounds[0].c_str(),
                        decoded.clips[0].seconds(), static_cast<long long>(media->tokens),
                        static_cast<long long>(media->width), static_cast<long long>(media->audio_pieces),
                        media->audio_pieces == 1 ? "" : "s", rms(*media), media->encode_seconds * 1000);
            return 0;
        }
        out = audio_report(sounds[0], decoded.clips[0], *media);
        out["kind"] = "audio";
    }
    out["embeddings"] = rows(*media);
    std::printf("%s\n", out.dump().c_str());
    return 0;
}

}  // namespace gd::cli
