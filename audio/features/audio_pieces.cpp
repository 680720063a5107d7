// The 30-second piece rule (audio_pieces.h): consecutive, non-overlapping pieces of at most
// kAudioPieceSamples; a tail too short to make even one frame would add no token, so it is dropped.
#include "audio/features/audio_pieces.h"

#include <algorithm>

#include "audio/features/log_mel.h"

namespace gd {

std::vector<AudioPiece> split_audio(int64_t samples) {
    std::vector<AudioPiece> pieces;
    for (int64_t first = 0; samples - first >= kAudioMinSamples; first += kAudioPieceSamples)
        pieces.push_back({first, std::min(kAudioPieceSamples, samples - first)});
    return pieces;
}

int64_t audio_token_count(int64_t samples) {
    int64_t tokens = 0;
    for (const AudioPiece& p : split_audio(samples)) tokens += audio_piece_token_count(p.count);
    return tokens;
}

std::string audio_piece_rule() {
    return "Audio gives 25 tokens per second. A recording longer than 30 seconds is read in consecutive "
           "30-second pieces (750 tokens each, the last one shorter), all of it kept; a final remainder "
           "shorter than 10 ms is dropped.";
}

}  // namespace gd
