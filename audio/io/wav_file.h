#pragma once
// Writing 16-bit PCM WAV files: the app stores microphone recordings this way, tests make inputs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gd {

// A complete RIFF/WAVE file of 16-bit little-endian PCM, `channels` interleaved (samples.size() is a
// multiple of channels). Samples are clamped to [-1, 1] and rounded.
std::vector<uint8_t> encode_wav_pcm16(const float* samples, size_t count, int sample_rate, int channels = 1);
// Writes atomically (temporary file + rename). Throws gd::Error when the file cannot be written.
void write_wav_file(const std::string& path, const float* samples, size_t count, int sample_rate, int channels = 1);

}  // namespace gd
