#include "audio_options.h"

#include <algorithm>
#include <cstdio>

#include "audio/features/audio_pieces.h"
#include "common/error.h"

namespace gd::cli {

const std::set<std::string> kAudioOptions = {"audio"};

std::string audio_piece_rule_help(size_t indent) {
    constexpr size_t kWidth = 100;
    std::string out, line;
    const std::string rule = audio_piece_rule();
    for (size_t at = 0; at < rule.size();) {
        const size_t space = std::min(rule.find(' ', at), rule.size());
        const std::string word = rule.substr(at, space - at);
        if (!line.empty() && indent + line.size() + 1 + word.size() > kWidth) {
            out += std::string(indent, ' ') + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
        at = space + 1;
    }
    if (!line.empty()) out += std::string(indent, ' ') + line + "\n";
    return out;
}

std::string audio_options_help() {
    return "  --audio FILE       an audio clip (WAV, MP3, FLAC, OGG, Opus, M4A, WebM, ...; at most 10 minutes);\n"
           "                     repeat for several, in order.\n" +
           audio_piece_rule_help(21);
}

int64_t AudioArgs::prompt_tokens() const {
    int64_t n = 0;
    for (const DecodedAudio& c : clips) n += audio_token_count(static_cast<int64_t>(c.samples.size())) + 2;
    return n;
}

AudioArgs decode_audio_files(const std::vector<std::string>& files) {
    AudioArgs out;
    out.files = files;
    for (const std::string& f : files) out.clips.push_back(decode_audio_file(f));
    return out;
}

void require_audio(const Model& model) {
    if (model.has_audio()) return;
    const Variant family = family_of(model.config());
    if (family == Variant::A26B || family == Variant::B31) {
        throw Error(std::string("this model (") + variant_name(family) +
                    ") has no audio input: only Gemma 4 E2B and E4B hear audio; use an E2B or E4B model");
    }
    if (model.config().audio) return;  // the tower is named but could not be placed: encode_audio says why
    if (model.files().format() == ModelFormat::Gguf) {
        throw Error("this model has no audio input: no audio projector (mmproj) file was found next to it; "
                    "give it with --mmproj (E2B and E4B GGUF downloads ship one)");
    }
    throw Error("this model has no audio input: its files hold no audio tower (only Gemma 4 E2B and E4B hear audio)");
}

std::vector<std::shared_ptr<const MediaEmbedding>> encode_audio_clips(Model& model, const AudioArgs& in, bool quiet) {
    std::vector<std::shared_ptr<const MediaEmbedding>> out;
    if (in.clips.empty()) return out;
    require_audio(model);
    for (size_t i = 0; i < in.clips.size(); ++i) {
        const DecodedAudio& clip = in.clips[i];
        auto m = model.encode_audio(clip.samples);
        if (!quiet) {
            std::fprintf(stderr, "[%s: %.2f s (%s, %d Hz, %d ch) -> %lld soft tokens in %lld piece%s, encoded in %.0f ms]\n",
                         in.files[i].c_str(), clip.seconds(), clip.codec.c_str(), clip.source_rate, clip.source_channels,
                         static_cast<long long>(m->tokens), static_cast<long long>(m->audio_pieces),
                         m->audio_pieces == 1 ? "" : "s", m->encode_seconds * 1000);
        }
        out.push_back(std::move(m));
    }
    return out;
}

nlohmann::json audio_report(const std::string& file, const DecodedAudio& clip, const MediaEmbedding& m) {
    return {{"file", file},
            {"seconds", clip.seconds()},
            {"tokens", m.tokens},
            {"pieces", m.audio_pieces},
            {"encode_seconds", m.encode_seconds},
            {"source_rate", clip.source_rate},
            {"source_channels", clip.source_channels},
            {"codec", clip.codec}};
}

}  // namespace gd::cli
