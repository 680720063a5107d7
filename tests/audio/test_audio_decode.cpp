// The audio file decoder on real files of every supported format (tests/data/audio/files, made by
// tools/reference/make_audio_fixtures.sh): lengths, resampling, the mono mix, and the refusals
// for empty, foreign, damaged and oversized input.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "audio/io/audio_decode.h"
#include "audio/io/wav_file.h"
#include "common/error.h"
#include "support/test_support.h"

namespace gd {
namespace {

std::string fixture(const std::string& name) { return test::data_dir() + "/audio/files/" + name; }

// The FormatError message of decoding `bytes`, or "" when it decoded.
std::string bytes_error(const std::vector<uint8_t>& bytes, const AudioDecodeLimits& limits = {}) {
    try {
        decode_audio_bytes(bytes.data(), bytes.size(), "clip.bin", limits);
    } catch (const FormatError& e) {
        return e.what();
    }
    return "";
}

std::string file_error(const std::string& path, const AudioDecodeLimits& limits = {}) {
    try {
        decode_audio_file(path, limits);
    } catch (const FormatError& e) {
        return e.what();
    }
    return "";
}

// ---------------------------------------------------------------------------------------------
// Every format: length at 16 kHz, what the decoder reports, and that the sound is there.

struct FormatCase {
    const char* file;
    const char* codec;
    int source_rate;
    double seconds;
    // How far the decoded length may be from the true one, in output samples, and why.
    int tolerance;
};

// The voice fixtures are exactly 2 s (32000 samples at 16 kHz) before encoding.
// - PCM and FLAC at 16 kHz: nothing to resample, lossless, the length is exact.
// - PCM resampled (11.025, 22.05 kHz): libswresample emits the filter tail on flush; the total can
//   round by a sample or two either way.
// - MP3: LAME writes its encoder delay and padding in the Xing/LAME tag and FFmpeg trims both, so
//   the length is exact today; allowed: one MP3 frame (1152 samples at 22.05 kHz = 836 at 16 kHz).
// - AAC in MP4: the edit list carries the 1024-sample priming, which FFmpeg drops, but FFmpeg 5.1
//   keeps the padding of the last frame (the file decodes to 32 whole frames, 32768 samples);
//   allowed: one AAC frame (1024 samples at 16 kHz). The priming itself is checked by the
//   alignment in MatchesTheSourceVoice (it would shift the voice by 64 ms).
// - Vorbis in Ogg: the last page's granule position trims the final block (exact today); allowed:
//   half a long block (2048 samples at 16 kHz, of which 1024 are new output).
// - Opus in Ogg and WebM: pre-skip (Ogg) / CodecDelay (WebM) drop the 312-sample priming and the
//   end is trimmed by the granule / DiscardPadding (exact today); allowed: one 20 ms Opus frame
//   (320 samples).
const FormatCase kFormats[] = {
    {"speech_16k_mono_s16.wav", "pcm_s16le", 16000, 2.0, 0},
    {"speech_11k_mono_u8.wav", "pcm_u8", 11025, 2.0, 2},
    {"speech_22k_mono_f32.wav", "pcm_f32le", 22050, 0.5, 2},
    {"speech.flac", "flac", 16000, 2.0, 0},
    {"speech.mp3", "mp3", 22050, 2.0, 836},
    {"speech.ogg", "vorbis", 16000, 2.0, 1024},
    {"speech.opus", "opus", 48000, 2.0, 320},
    {"speech.m4a", "aac", 16000, 2.0, 1024},
    {"speech.webm", "opus", 48000, 2.0, 320},
    {"video_with_speech.mp4", "aac", 16000, 2.0, 1024},
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.file; }

class AudioFormats : public ::testing::TestWithParam<FormatCase> {};

TEST_P(AudioFormats, DecodesToExpectedLengthAt16kMono) {
    const FormatCase& c = GetParam();
    const DecodedAudio a = decode_audio_file(fixture(c.file));
    EXPECT_EQ(a.codec, c.codec);
    EXPECT_EQ(a.source_rate, c.source_rate);
    EXPECT_EQ(a.source_channels, 1);
    const long expected = std::lround(c.seconds * kAudioSampleRate);
    EXPECT_NEAR(static_cast<double>(a.samples.size()), static_cast<double>(expected), c.tolerance)
        << c.file << " decoded to " << a.samples.size() << " samples";
    // The voice is there: loud enough, within range, and not a constant.
    float peak = 0;
    double energy = 0;
    for (float v : a.samples) {
        ASSERT_TRUE(std::isfinite(v));
        peak = std::max(peak, std::fabs(v));
        energy += double(v) * v;
    }
    EXPECT_GT(peak, 0.1f);
    EXPECT_LE(peak, 1.5f);  // lossy codecs overshoot a little at most
    EXPECT_GT(std::sqrt(energy / a.samples.size()), 0.01);
}

// The lossy files were all made from speech_16k_mono_s16.wav: each must still resemble it (high
// correlation), which a decoder emitting the wrong channel, rate or offset would fail.
TEST_P(AudioFormats, MatchesTheSourceVoice) {
    const FormatCase& c = GetParam();  // the 0.5 s copy is compared over its 0.5 s
    const std::vector<float> ref = decode_audio_file(fixture("speech_16k_mono_s16.wav")).samples;
    const std::vector<float> got = decode_audio_file(fixture(c.file)).samples;
    // Lossy decoders may shift the signal by a few samples (resampler and codec group delay):
    // take the best correlation within ±2 ms.
    double best = -1;
    const size_t n = std::min(ref.size(), got.size()) - 64;
    for (int lag = -32; lag <= 32; ++lag) {
        double xy = 0, xx = 0, yy = 0;
        for (size_t i = 32; i < n; ++i) {
            const double x = ref[i], y = got[size_t(long(i) + lag)];
            xy += x * y;
            xx += x * x;
            yy += y * y;
        }
        best = std::max(best, xy / std::sqrt(xx * yy + 1e-30));
    }
    EXPECT_GT(best, 0.8) << c.file;
}

INSTANTIATE_TEST_SUITE_P(Files, AudioFormats, ::testing::ValuesIn(kFormats), [](const auto& tp) {
    std::string name = tp.param.file;
    for (char& ch : name) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    return name;
});

TEST(AudioDecode, ReportsContainerAndCodecNames) {
    const DecodedAudio wav = decode_audio_file(fixture("speech_16k_mono_s16.wav"));
    EXPECT_EQ(wav.container, "wav");
    EXPECT_EQ(wav.codec, "pcm_s16le");
    EXPECT_NE(decode_audio_file(fixture("speech.m4a")).container.find("mp4"), std::string::npos);
    EXPECT_NE(decode_audio_file(fixture("speech.webm")).container.find("webm"), std::string::npos);
    EXPECT_EQ(decode_audio_file(fixture("speech.ogg")).container, "ogg");
}

TEST(AudioDecode, BytesAndFileGiveTheSameSamples) {
    for (const char* name : {"speech.mp3", "speech.flac", "speech.opus"}) {
        const std::vector<uint8_t> bytes = test::read_file(fixture(name));
        const DecodedAudio from_bytes = decode_audio_bytes(bytes.data(), bytes.size(), name);
        const DecodedAudio from_file = decode_audio_file(fixture(name));
        EXPECT_EQ(from_bytes.samples, from_file.samples) << name;
    }
}

TEST(AudioDecode, LosslessWavIsExact) {
    // The 16 kHz s16 WAV needs no resampling: every sample is the stored integer over 32768.
    const std::vector<uint8_t> bytes = test::read_file(fixture("speech_16k_mono_s16.wav"));
    const DecodedAudio a = decode_audio_file(fixture("speech_16k_mono_s16.wav"));
    ASSERT_EQ(a.samples.size(), (bytes.size() - 44) / 2);
    for (size_t i = 0; i < a.samples.size(); ++i) {
        const auto v = static_cast<int16_t>(bytes[44 + 2 * i] | (bytes[45 + 2 * i] << 8));
        ASSERT_EQ(a.samples[i], v / 32768.0f) << "sample " << i;
    }
}

// ---------------------------------------------------------------------------------------------
// Resampling and mixing, on a tone whose every property is known.

// 440 Hz at 44.1 kHz stereo, left amplitude 0.5 and right 0.1 in phase: the mono mix is the mean,
// a 440 Hz sine of amplitude 0.3. (libswresample's default downmix would give 0.707·(0.5+0.1) =
// 0.42; taking the left channel 0.5; summing 0.6.)
TEST(AudioDecode, SineKeepsFrequencyAndMixesToTheMean) {
    const DecodedAudio a = decode_audio_file(fixture("sine440_44k_stereo_l05_r01.wav"));
    EXPECT_EQ(a.source_rate, 44100);
    EXPECT_EQ(a.source_channels, 2);
    ASSERT_NEAR(double(a.samples.size()), 8000, 2);
    // Leave the first and last 20 ms to the resampler's edges.
    const size_t begin = 320, end = a.samples.size() - 320;
    int crossings = 0;
    float peak = 0;
    for (size_t i = begin; i < end; ++i) {
        if ((a.samples[i - 1] < 0) != (a.samples[i] < 0)) ++crossings;
        peak = std::max(peak, std::fabs(a.samples[i]));
    }
    const double seconds = double(end - begin) / kAudioSampleRate;
    EXPECT_NEAR(crossings / 2.0 / seconds, 440.0, 3.0);
    EXPECT_NEAR(peak, 0.3, 0.005);
    // Sample by sample: fit the phase on the zero crossings above and compare to 0.3·sin.
    double best_err = 1e9;
    for (int k = 0; k < 3600; ++k) {  // phase in 0.1° steps
        const double phase = k * M_PI / 1800;
        double err = 0;
        for (size_t i = begin; i < end; i += 7) {
            const double t = double(i) / kAudioSampleRate;
            err = std::max(err, std::fabs(a.samples[i] - 0.3 * std::sin(2 * M_PI * 440 * t + phase)));
        }
        best_err = std::min(best_err, err);
    }
    EXPECT_LT(best_err, 0.005);
}

TEST(AudioDecode, StereoWithOppositeChannelsCancels) {
    // Made here rather than committed: left = s, right = -s must mix to exact silence.
    std::vector<float> stereo;
    for (int i = 0; i < 16000; ++i) {
        const float v = 0.5f * std::sin(2 * float(M_PI) * 300 * i / 16000.0f);
        stereo.push_back(v);
        stereo.push_back(-v);
    }
    const std::vector<uint8_t> wav = encode_wav_pcm16(stereo.data(), stereo.size(), 16000, 2);
    const DecodedAudio a = decode_audio_bytes(wav.data(), wav.size(), "cancel.wav");
    ASSERT_EQ(a.samples.size(), 16000u);
    for (float v : a.samples) ASSERT_NEAR(v, 0.0f, 1.0f / 32768);
}

TEST(AudioDecode, SilenceIsValidAudioOfZeros) {
    const DecodedAudio a = decode_audio_file(fixture("silence_1s.flac"));
    ASSERT_EQ(a.samples.size(), 16000u);
    for (float v : a.samples) ASSERT_EQ(v, 0.0f);
}

// A float WAV may hold NaN and infinities; the decoder hands out finite numbers only.
TEST(AudioDecode, NonFiniteFloatSamplesBecomeSilence) {
    std::vector<float> v(1600, 0.25f);
    v[100] = std::numeric_limits<float>::quiet_NaN();
    v[200] = std::numeric_limits<float>::infinity();
    v[300] = -std::numeric_limits<float>::infinity();
    const uint32_t data = uint32_t(v.size() * 4);
    const uint32_t header[] = {0x46464952u /*RIFF*/, 36 + data, 0x45564157u /*WAVE*/, 0x20746d66u /*fmt */, 16,
                               3 | (1u << 16) /*IEEE float, mono*/, 16000, 64000, 4 | (32u << 16), 0x61746164u /*data*/,
                               data};
    std::vector<uint8_t> wav(sizeof header + data);
    std::memcpy(wav.data(), header, sizeof header);
    std::memcpy(wav.data() + sizeof header, v.data(), data);
    const DecodedAudio a = decode_audio_bytes(wav.data(), wav.size(), "nan.wav");
    EXPECT_EQ(a.codec, "pcm_f32le");
    ASSERT_EQ(a.samples.size(), v.size());
    for (float x : a.samples) ASSERT_TRUE(std::isfinite(x));
    EXPECT_EQ(a.samples[0], 0.25f);
    EXPECT_EQ(a.samples[100], 0.0f);
    EXPECT_EQ(a.samples[200], 0.0f);
}

// ---------------------------------------------------------------------------------------------
// Refusals: each is a FormatError that names the file and says what is wrong.

TEST(AudioDecodeErrors, EmptyFile) {
    const std::string path = test::scratch_dir("audio_empty") + "/nothing.mp3";
    test::write_file(path, {});
    EXPECT_EQ(file_error(path), "nothing.mp3: the file is empty");
    EXPECT_EQ(bytes_error({}), "clip.bin: the file is empty");
}

TEST(AudioDecodeErrors, MissingFileFolderAndDevice) {
    EXPECT_EQ(file_error(test::data_dir() + "/audio/files/no_such.wav"), "no_such.wav: no such file");
    EXPECT_NE(file_error(test::data_dir() + "/audio/files").find("a folder"), std::string::npos);
    EXPECT_NE(file_error("/dev/zero").find("not a regular file"), std::string::npos);
}

TEST(AudioDecodeErrors, TextFile) {
    const std::string path = test::scratch_dir("audio_text") + "/notes.txt";
    const std::string text = "These are my notes about the meeting.\nNothing to hear here.\n";
    test::write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
    EXPECT_EQ(file_error(path), "notes.txt: not an audio file FFmpeg can read");
}

TEST(AudioDecodeErrors, PngImage) {
    const std::string msg = file_error(test::data_dir() + "/vision/images/orient5.png");
    EXPECT_EQ(msg, "orient5.png: not an audio file FFmpeg can read");
}

// A dropped file must not make FFmpeg open other files: an ffconcat script or an HLS playlist
// naming a WAV beside it is refused, not decoded (those demuxers are not allowed, and any nested
// open is refused as well). Without that policy FFmpeg plays the ffconcat script: a relative
// name in the same folder passes the concat demuxer's own safe mode.
TEST(AudioDecodeErrors, PlaylistsAndScriptsNeverOpenOtherFiles) {
    const std::string dir = test::scratch_dir("audio_playlists");
    test::write_file(dir + "/voice.wav", test::read_file(fixture("speech_16k_mono_s16.wav")));
    const std::string concat = "ffconcat version 1.0\nfile 'voice.wav'\n";
    const std::string hls = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nvoice.wav\n#EXT-X-ENDLIST\n";
    for (const auto& [name, text] : {std::pair{"list.ffconcat", concat}, std::pair{"list.m3u8", hls}}) {
        const std::vector<uint8_t> bytes(text.begin(), text.end());
        try {
            const DecodedAudio a = decode_audio_bytes(bytes.data(), bytes.size(), dir + "/" + name);
            ADD_FAILURE() << name << " played " << a.seconds() << " s of another file";
        } catch (const FormatError& e) {
            EXPECT_NE(std::string(e.what()).find(": not an audio file FFmpeg can read"), std::string::npos) << e.what();
        }
    }
}

TEST(AudioDecodeErrors, VideoWithoutSound) {
    EXPECT_EQ(file_error(fixture("video_only.mp4")), "video_only.mp4: the file has no audio track");
}

TEST(AudioDecodeErrors, RandomBytes) {
    std::mt19937 rng(7);
    for (size_t size : {1, 3, 100, 4096, 65536}) {
        std::vector<uint8_t> bytes(size);
        for (auto& b : bytes) b = static_cast<uint8_t>(rng());
        EXPECT_NE(bytes_error(bytes), "") << size << " random bytes decoded";
    }
}

// The first 100 bytes: a WAV holds a header and 28 samples (which may decode, but no more); an
// MP3 holds its ID3 tag and part of a frame, which decodes to nothing.
TEST(AudioDecodeErrors, First100Bytes) {
    std::vector<uint8_t> wav = test::read_file(fixture("speech_16k_mono_s16.wav"));
    wav.resize(100);
    try {
        EXPECT_LE(decode_audio_bytes(wav.data(), wav.size(), "cut.wav").samples.size(), 28u);
    } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("cut.wav: "), std::string::npos);
    }
    std::vector<uint8_t> mp3 = test::read_file(fixture("speech.mp3"));
    mp3.resize(100);
    const std::string msg = bytes_error(mp3);
    EXPECT_TRUE(msg.rfind("clip.bin: ", 0) == 0) << msg;
}

// Half a file decodes its first half (or is refused clearly) in every format; never a crash.
TEST(AudioDecodeErrors, FirstHalfOfEveryFormat) {
    for (const FormatCase& c : kFormats) {
        std::vector<uint8_t> bytes = test::read_file(fixture(c.file));
        const std::vector<float> full = decode_audio_bytes(bytes.data(), bytes.size(), c.file).samples;
        bytes.resize(bytes.size() / 2);
        try {
            const std::vector<float> half = decode_audio_bytes(bytes.data(), bytes.size(), c.file).samples;
            EXPECT_LT(half.size(), full.size()) << c.file;
        } catch (const FormatError& e) {
            EXPECT_TRUE(std::string(e.what()).rfind(std::string(c.file) + ": ", 0) == 0) << e.what();
        }
    }
}

TEST(AudioDecodeErrors, FirstHalfOfWavAndMp3DecodeTheirFirstHalf) {
    std::vector<uint8_t> wav = test::read_file(fixture("speech_16k_mono_s16.wav"));
    const std::vector<float> wav_full = decode_audio_bytes(wav.data(), wav.size(), "a.wav").samples;
    wav.resize(wav.size() / 2);
    const std::vector<float> wav_half = decode_audio_bytes(wav.data(), wav.size(), "a.wav").samples;
    ASSERT_EQ(wav_half.size(), (wav.size() - 44) / 2);
    EXPECT_TRUE(std::equal(wav_half.begin(), wav_half.end(), wav_full.begin()));

    std::vector<uint8_t> mp3 = test::read_file(fixture("speech.mp3"));
    const std::vector<float> mp3_full = decode_audio_bytes(mp3.data(), mp3.size(), "a.mp3").samples;
    mp3.resize(mp3.size() / 2);
    const std::vector<float> mp3_half = decode_audio_bytes(mp3.data(), mp3.size(), "a.mp3").samples;
    // About a second, give or take the frames cut through; the audio up to there is the same.
    EXPECT_NEAR(double(mp3_half.size()), 16000, 2000);
    ASSERT_GT(mp3_half.size(), 8000u);
    for (size_t i = 0; i < 8000; ++i) ASSERT_NEAR(mp3_half[i], mp3_full[i], 1e-6) << i;
}

TEST(AudioDecodeErrors, FileOverTheSizeLimit) {
    AudioDecodeLimits limits;
    limits.max_file_bytes = 1000;
    EXPECT_EQ(file_error(fixture("speech.mp3"), limits),
              "speech.mp3: the file is 8457 bytes; Gemma Desk opens audio files up to 1000 bytes");
    const std::vector<uint8_t> bytes = test::read_file(fixture("speech.mp3"));
    EXPECT_NE(bytes_error(bytes, limits), "");
}

// A 2 s clip with a 0.5 s limit: the length in the header refuses it before decoding.
TEST(AudioDecodeErrors, ClipOverTheDurationLimit) {
    AudioDecodeLimits limits;
    limits.max_seconds = 0.5;
    for (const char* name : {"speech_16k_mono_s16.wav", "speech.flac", "speech.m4a", "speech.ogg"}) {
        EXPECT_EQ(file_error(fixture(name), limits),
                  std::string(name) + ": 2 s long; Gemma Desk takes audio up to 0.5 s");
    }
    // MP3 states its length in the Xing tag; Opus and WebM only at the end: all are refused.
    for (const char* name : {"speech.mp3", "speech.opus", "speech.webm"}) {
        EXPECT_NE(file_error(fixture(name), limits).find("Gemma Desk takes audio up to 0.5 s"), std::string::npos) << name;
    }
    limits.max_seconds = 600;
    EXPECT_NO_THROW(decode_audio_file(fixture("speech.opus"), limits));
}

// FLAC states its length in STREAMINFO (36 bits of sample count at bytes 21..25). Claiming
// 2 h 3 min there gets the file refused from the header alone.
TEST(AudioDecodeErrors, HeaderClaimingHoursIsRefusedUpFront) {
    std::vector<uint8_t> flac = test::read_file(fixture("speech.flac"));
    ASSERT_EQ(std::string(flac.begin(), flac.begin() + 4), "fLaC");
    const uint32_t claim = 16000 * (2 * 3600 + 3 * 60);
    flac[21] &= 0xF0;
    for (int i = 0; i < 4; ++i) flac[22 + i] = uint8_t(claim >> (24 - 8 * i));
    EXPECT_EQ(bytes_error(flac), "clip.bin: 2 h 3 min long; Gemma Desk takes audio up to 10 minutes");
}

// A WAV whose data chunk claims more than the file holds is not believed (FFmpeg checks the claim
// against the file size): the second that is there decodes.
TEST(AudioDecodeErrors, WavClaimingMoreThanTheFileHoldsDecodesWhatIsThere) {
    std::vector<float> second(16000, 0.25f);
    std::vector<uint8_t> wav = encode_wav_pcm16(second.data(), second.size(), 16000);
    const uint32_t claim = 0xFFFFFFF0u;
    std::memcpy(&wav[40], &claim, 4);
    EXPECT_EQ(decode_audio_bytes(wav.data(), wav.size(), "cut.wav").samples.size(), 16000u);
}

// 60 s of 16 kHz WAV in memory whose bytes past 8 s are unreadable (PROT_NONE): decoding it with
// a 0.5 s limit must stop long before them, or the test crashes.
class GuardedWav {
public:
    explicit GuardedWav(bool streamed) {
        std::vector<float> tone(kRate * kSeconds);
        for (size_t i = 0; i < tone.size(); ++i) tone[i] = 0.3f * std::sin(float(i) * 0.1f);
        std::vector<uint8_t> wav = encode_wav_pcm16(tone.data(), tone.size(), int(kRate));
        if (streamed) {  // as a recorder writing to a pipe leaves it: no sizes, length unknown
            std::memset(&wav[4], 0, 4);
            std::memset(&wav[40], 0, 4);
        }
        size_ = wav.size();
        const size_t page = size_t(sysconf(_SC_PAGESIZE));
        mapped_ = (size_ + page - 1) / page * page;
        region_ = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region_ == MAP_FAILED) throw std::runtime_error("mmap failed");
        std::memcpy(region_, wav.data(), size_);
        readable_ = (44 + 8 * kRate * 2 + page - 1) / page * page;
    }
    ~GuardedWav() { munmap(region_, mapped_); }
    void guard() {
        if (mprotect(static_cast<uint8_t*>(region_) + readable_, mapped_ - readable_, PROT_NONE) != 0) {
            throw std::runtime_error("mprotect failed");
        }
    }
    std::string error(double max_seconds) const {
        AudioDecodeLimits limits;
        limits.max_seconds = max_seconds;
        try {
            decode_audio_bytes(region_, size_, "long.wav", limits);
        } catch (const FormatError& e) {
            return e.what();
        }
        return "";
    }
    size_t decoded_samples() const { return decode_audio_bytes(region_, size_, "long.wav").samples.size(); }

    static constexpr size_t kRate = 16000, kSeconds = 60;

private:
    void* region_ = nullptr;
    size_t size_ = 0, mapped_ = 0, readable_ = 0;
};

TEST(AudioDecodeErrors, StatedLengthOverTheLimitIsRefusedBeforeDecoding) {
    GuardedWav wav(false);
    wav.guard();
    EXPECT_EQ(wav.error(0.5), "long.wav: 1 min long; Gemma Desk takes audio up to 0.5 s");
}

TEST(AudioDecodeErrors, StreamedClipStopsDecodingAtTheLimit) {
    GuardedWav wav(true);
    // Unguarded and unlimited first: the stream really holds 60 s, so it is the limit that stops
    // the guarded decode below.
    EXPECT_EQ(wav.decoded_samples(), GuardedWav::kRate * GuardedWav::kSeconds);
    wav.guard();
    EXPECT_EQ(wav.error(0.5), "long.wav: more than 0.5 s long; Gemma Desk takes audio up to 0.5 s");
}

TEST(AudioDecodeErrors, LengthJustOverTheLimitIsCutNotRefused) {
    // 1.02 s with a 1 s limit: within the slack left for codec padding, cut to exactly 1 s.
    std::vector<float> clip(16320, 0.1f);
    const std::vector<uint8_t> wav = encode_wav_pcm16(clip.data(), clip.size(), 16000);
    AudioDecodeLimits limits;
    limits.max_seconds = 1;
    EXPECT_EQ(decode_audio_bytes(wav.data(), wav.size(), "a.wav", limits).samples.size(), 16000u);
}

TEST(AudioDecodeErrors, WavWithNoSamples) {
    const std::vector<uint8_t> wav = encode_wav_pcm16(nullptr, 0, 16000);
    EXPECT_EQ(bytes_error(wav), "clip.bin: the file contains no sound (its audio track is empty)");
}

// ---------------------------------------------------------------------------------------------

TEST(AudioDecode, ConcurrentDecodesAgreeWithSerialOnes) {
    const char* names[] = {"speech.mp3", "speech.ogg", "speech.opus", "speech.m4a", "speech.flac", "speech.webm"};
    std::vector<std::vector<float>> serial;
    for (const char* n : names) serial.push_back(decode_audio_file(fixture(n)).samples);
    std::vector<std::vector<float>> parallel(std::size(names));
    std::vector<std::thread> threads;
    for (size_t i = 0; i < std::size(names); ++i) {
        threads.emplace_back([&, i] {
            for (int round = 0; round < 3; ++round) parallel[i] = decode_audio_file(fixture(names[i])).samples;
        });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < std::size(names); ++i) EXPECT_EQ(parallel[i], serial[i]) << names[i];
}

TEST(AudioSniff, RecognisesEveryFixture) {
    for (const auto& entry : std::filesystem::directory_iterator(test::data_dir() + "/audio/files")) {
        if (entry.path().filename() == "video_only.mp4") continue;  // an MP4, so "yes" as well
        const std::vector<uint8_t> bytes = test::read_file(entry.path().string());
        EXPECT_TRUE(looks_like_audio(bytes.data(), bytes.size())) << entry.path();
    }
}

TEST(AudioSniff, HeadersOfOtherContainers) {
    const auto yes = [](const std::string& s) { return looks_like_audio(s.data(), s.size()); };
    EXPECT_TRUE(yes(std::string("FORM\0\0\0\0AIFF", 12)));
    EXPECT_TRUE(yes(std::string("FORM\0\0\0\0AIFC", 12)));
    EXPECT_TRUE(yes("caff"));
    EXPECT_TRUE(yes("\xFF\xF1\x50\x80"));           // ADTS AAC, 44.1 kHz
    EXPECT_TRUE(yes("\xFF\xFB\x90\x64"));           // MPEG-1 layer III, 128 kbit/s
    EXPECT_TRUE(yes(std::string("\0\0\0\x20" "ftypM4A ", 12)));
    EXPECT_TRUE(yes("\x1A\x45\xDF\xA3\x9F"));
    EXPECT_TRUE(yes(std::string("RIFF\x24\0\0\0WAVE", 12)));
}

TEST(AudioSniff, RefusesOtherFiles) {
    const auto yes = [](const std::string& s) { return looks_like_audio(s.data(), s.size()); };
    EXPECT_FALSE(yes(""));
    EXPECT_FALSE(yes("Hello, world"));
    EXPECT_FALSE(yes("\x89PNG\r\n\x1A\n"));
    EXPECT_FALSE(yes("\xFF\xD8\xFF\xE0"));                   // JPEG
    EXPECT_FALSE(yes("\xFF\xFEH\0e\0"));                    // UTF-16 text with a byte-order mark
    EXPECT_FALSE(yes(std::string("RIFF\0\0\0\0WEBP", 12)));  // a WebP image is RIFF too
    EXPECT_FALSE(yes("\xFF\xFB\xF0\x64"));                   // MPEG sync with the reserved bit rate
    EXPECT_FALSE(yes("ID"));
    EXPECT_FALSE(looks_like_audio(nullptr, 10));
}

}  // namespace
}  // namespace gd
