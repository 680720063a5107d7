#pragma once
// Audio files in, 16 kHz mono float samples out: FFmpeg's libavformat finds the audio stream (WAV,
// MP3, FLAC, OGG/Vorbis, Opus, M4A/AAC, WebM, ...), libavcodec decodes it and libswresample mixes any
// channel layout down to mono and resamples any rate to 16 kHz float (spec §4.2 input).
//
// Every file is untrusted: sizes are checked before reading, decoding stops as soon as the clip
// exceeds the duration limit (memory stays bounded for hours-long files), and every failure is a
// gd::FormatError that names the file and says what is wrong in plain words.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gd {

constexpr int kAudioSampleRate = 16000;

struct AudioDecodeLimits {
    uint64_t max_file_bytes = uint64_t{1} << 30;  // 1 GiB
    double max_seconds = 600;                     // 10 minutes: 20 pieces of 30 s (15 000 audio tokens)
};

struct DecodedAudio {
    std::vector<float> samples;       // 16 kHz mono, nominally in [-1, 1]
    std::string container, codec;     // FFmpeg's names, e.g. "wav" and "pcm_s16le"
    int source_rate = 0, source_channels = 0;
    double seconds() const { return static_cast<double>(samples.size()) / kAudioSampleRate; }
};

// Decodes the first (best) audio stream of the file. Throws gd::FormatError for a missing, empty,
// truncated-to-nothing, non-audio or over-limit file.
DecodedAudio decode_audio_file(const std::string& path, const AudioDecodeLimits& limits = {});
// The same from memory (drag-and-drop, clipboard, fuzzing); `name` is used in messages.
DecodedAudio decode_audio_bytes(const void* data, size_t size, const std::string& name,
                                const AudioDecodeLimits& limits = {});

// A quick header check (no decoding): true when the bytes start like an audio container FFmpeg
// would open (RIFF/WAVE, ID3/MPEG frame sync, fLaC, OggS, EBML/WebM, ISO-BMFF ftyp M4A/MP4, ...).
bool looks_like_audio(const void* data, size_t size);

}  // namespace gd
