// The 16-bit WAV writer: the exact header bytes, clamping and rounding, the atomic write, and a
// round trip through the decoder.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "audio/io/audio_decode.h"
#include "audio/io/wav_file.h"
#include "common/error.h"
#include "support/test_support.h"

namespace gd {
namespace {

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
    return uint32_t(b[at]) | uint32_t(b[at + 1]) << 8 | uint32_t(b[at + 2]) << 16 | uint32_t(b[at + 3]) << 24;
}
uint16_t le16(const std::vector<uint8_t>& b, size_t at) { return uint16_t(b[at] | b[at + 1] << 8); }
int16_t sample(const std::vector<uint8_t>& b, size_t i) { return static_cast<int16_t>(le16(b, 44 + 2 * i)); }

TEST(WavFile, HeaderIsTheCanonical44Bytes) {
    const float s[6] = {0, 0.5f, -0.5f, 1, -1, 0.25f};
    const std::vector<uint8_t> b = encode_wav_pcm16(s, 6, 22050, 2);
    ASSERT_EQ(b.size(), 44u + 12);
    EXPECT_EQ(std::string(b.begin(), b.begin() + 4), "RIFF");
    EXPECT_EQ(le32(b, 4), 36u + 12);
    EXPECT_EQ(std::string(b.begin() + 8, b.begin() + 16), "WAVEfmt ");
    EXPECT_EQ(le32(b, 16), 16u);     // fmt chunk size
    EXPECT_EQ(le16(b, 20), 1);       // PCM
    EXPECT_EQ(le16(b, 22), 2);       // channels
    EXPECT_EQ(le32(b, 24), 22050u);  // sample rate
    EXPECT_EQ(le32(b, 28), 22050u * 4);
    EXPECT_EQ(le16(b, 32), 4);   // block align
    EXPECT_EQ(le16(b, 34), 16);  // bits
    EXPECT_EQ(std::string(b.begin() + 36, b.begin() + 40), "data");
    EXPECT_EQ(le32(b, 40), 12u);
}

TEST(WavFile, ClampsAndRounds) {
    const float s[] = {0.0f, 1.0f, -1.0f, 2.5f, -7.0f, 0.5f, -0.5f, 1.4f / 32768, 1.6f / 32768, -1.6f / 32768,
                       std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity()};
    const int16_t want[] = {0, 32767, -32768, 32767, -32768, 16384, -16384, 1, 2, -2, 0, 32767, -32768};
    const std::vector<uint8_t> b = encode_wav_pcm16(s, std::size(s), 16000);
    for (size_t i = 0; i < std::size(s); ++i) EXPECT_EQ(sample(b, i), want[i]) << "input " << s[i];
}

TEST(WavFile, RefusesImpossibleFormats) {
    const float s[3] = {};
    EXPECT_THROW(encode_wav_pcm16(s, 3, 16000, 2), Error);  // not a whole number of frames
    EXPECT_THROW(encode_wav_pcm16(s, 3, 0, 1), Error);
    EXPECT_THROW(encode_wav_pcm16(s, 3, 16000, 0), Error);
}

// Written, then read back by the decoder (FFmpeg): every sample within 1/32768 of what went in
// (half a step of rounding; +1.0 is stored as 32767/32768), clamped values at the rails.
TEST(WavFile, RoundTripThroughTheDecoder) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> level(-1.0f, 1.0f);
    std::vector<float> in(16000);
    for (auto& v : in) v = level(rng);
    in[0] = 1.0f;
    in[1] = -1.0f;
    in[2] = 0.0f;
    in[3] = 3.0f;
    in[4] = -3.0f;
    const std::string path = test::scratch_dir("wav_round_trip") + "/take.wav";
    write_wav_file(path, in.data(), in.size(), 16000);
    const DecodedAudio a = decode_audio_file(path);
    EXPECT_EQ(a.codec, "pcm_s16le");
    ASSERT_EQ(a.samples.size(), in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        const float want = std::fmax(-1.0f, std::fmin(1.0f, in[i]));
        ASSERT_NEAR(a.samples[i], want, 1.0f / 32768) << "sample " << i;
    }
}

TEST(WavFile, WritesAtomicallyAndReplaces) {
    const std::string dir = test::scratch_dir("wav_atomic");
    const std::string path = dir + "/rec.wav";
    const std::vector<float> first(100, 0.5f), second(50, -0.25f);
    write_wav_file(path, first.data(), first.size(), 16000);
    write_wav_file(path, second.data(), second.size(), 16000);
    EXPECT_EQ(std::filesystem::file_size(path), 44u + 100);
    EXPECT_EQ(test::read_file(path), encode_wav_pcm16(second.data(), second.size(), 16000));
    // Nothing left behind: the temporary file was renamed over the target.
    size_t files = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
    EXPECT_EQ(files, 1u);
}

TEST(WavFile, UnwritablePlaceIsAnError) {
    const std::vector<float> s(10, 0.0f);
    const std::string path = test::scratch_dir("wav_unwritable") + "/no/such/folder/rec.wav";
    try {
        write_wav_file(path, s.data(), s.size(), 16000);
        ADD_FAILURE() << "wrote into a missing folder";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("rec.wav: cannot be written"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gd
