// libFuzzer target: the audio decoder (FFmpeg behind our input policy, the memory reader and the
// mono resampler) on arbitrary bytes, plus the header sniff. Limits are small so one input stays
// in the milliseconds. Any exception other than gd::Error, any crash, any sanitizer report and any
// broken invariant of the result is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "audio/io/audio_decode.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    (void)gd::looks_like_audio(data, size);
    gd::AudioDecodeLimits limits;
    limits.max_file_bytes = 1 << 20;
    limits.max_seconds = 5;
    gd::DecodedAudio audio;
    try {
        audio = gd::decode_audio_bytes(data, size, "fuzz.audio", limits);
    } catch (const gd::Error&) {
        return 0;
    }
    // Decoded audio is never empty, never longer than the limit, and only finite numbers.
    if (audio.samples.empty() || audio.samples.size() > size_t(limits.max_seconds * gd::kAudioSampleRate)) {
        __builtin_trap();
    }
    for (float v : audio.samples) {
        if (!std::isfinite(v)) __builtin_trap();
    }
    if (audio.container.empty() || audio.codec.empty()) __builtin_trap();
    return 0;
}
