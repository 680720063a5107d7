#pragma once
// What the audio-taking subcommands (generate, encode, transcribe) share: --audio, decoding every
// clip before the model loads, the plain error for a model that cannot hear, encoding with a line per
// clip on stderr, and the per-clip --json report. Mirrors the image helpers in engine_options.h.
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "args.h"
#include "audio/io/audio_decode.h"
#include "engine/engine.h"

namespace gd::cli {

// --audio FILE (repeatable)
extern const std::set<std::string> kAudioOptions;
// The option line plus the 30-second piece rule, for --help.
std::string audio_options_help();
// The piece rule (audio/features/audio_pieces.h) wrapped for a help text, each line indented.
std::string audio_piece_rule_help(size_t indent);

struct AudioArgs {
    std::vector<std::string> files;
    std::vector<DecodedAudio> clips;
    // Soft tokens the clips take in a prompt, their <|audio> and <audio|> markers included.
    int64_t prompt_tokens() const;
};
// Each file decoded to 16 kHz mono, in order: done before the model loads, so a missing, damaged,
// empty or over-10-minute file fails at once (gd::FormatError, naming the file).
AudioArgs decode_audio_files(const std::vector<std::string>& files);

// Throws gd::Error in plain words when the model has no audio tower: 26B/31B never have one; an
// E2B/E4B GGUF needs its mmproj file.
void require_audio(const Model& model);
// Runs each clip through the audio tower; a line per clip on stderr unless quiet.
std::vector<std::shared_ptr<const MediaEmbedding>> encode_audio_clips(Model& model, const AudioArgs& audio, bool quiet);
// {"file", "seconds", "tokens", "pieces", "encode_seconds", "source_rate", "source_channels", "codec"}.
nlohmann::json audio_report(const std::string& file, const DecodedAudio& clip, const MediaEmbedding& m);

}  // namespace gd::cli
