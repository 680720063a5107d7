#pragma once
// How a clip longer than the encoder takes is split (spec §4.2, §4.7). The reference processor
// truncates at 30 s; we do what llama.cpp does instead and keep everything: the clip goes to the
// encoder as consecutive 30-second pieces (the last one shorter), each encoded on its own, and their
// soft tokens are placed one after another inside one <|audio> ... <audio|> span. A final remainder
// shorter than one frame (161 samples, ~10 ms) is dropped.
#include <cstdint>
#include <string>
#include <vector>

namespace gd {

constexpr int64_t kAudioPieceSamples = 480000;  // 30 s at 16 kHz: 750 soft tokens
constexpr int64_t kAudioMinSamples = 161;       // one frame

struct AudioPiece {
    int64_t first = 0, count = 0;  // sample range [first, first + count)
};

// The pieces of a clip of n samples; empty when n < kAudioMinSamples.
std::vector<AudioPiece> split_audio(int64_t samples);
// Soft tokens of the whole clip: the sum over its pieces (25 per second).
int64_t audio_token_count(int64_t samples);
// The rule above in one sentence, for help texts and the app's tooltips.
std::string audio_piece_rule();

}  // namespace gd
