// The 30-second piece rule and the token counts of audio_pieces.h / log_mel.h (spec §4.7).
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "audio/features/audio_pieces.h"
#include "audio/features/log_mel.h"

namespace gd {
namespace {

constexpr int64_t kSecond = 16000;

TEST(AudioPieces, TokenCountsPerDuration) {
    // Spec §4.7: T = floor((n - 161) / 160) + 1 frames, N = ceil(ceil(T / 2) / 2) tokens, 25 per second.
    EXPECT_EQ(audio_piece_token_count(1 * kSecond), 25);
    EXPECT_EQ(audio_piece_token_count(5 * kSecond), 125);
    EXPECT_EQ(audio_piece_token_count(10 * kSecond), 250);
    EXPECT_EQ(audio_piece_token_count(30 * kSecond), 750);
    for (int64_t n : {1 * kSecond, 5 * kSecond, 10 * kSecond, 30 * kSecond})
        EXPECT_EQ(audio_token_count(n), audio_piece_token_count(n)) << n;
    for (int64_t n : {int64_t(-5), int64_t(0), int64_t(1), int64_t(100), int64_t(160)}) {
        EXPECT_EQ(audio_piece_token_count(n), 0) << n;
        EXPECT_EQ(audio_token_count(n), 0) << n;
    }
    // The first frame, and then one more token every 4 frames (640 samples).
    EXPECT_EQ(audio_piece_token_count(161), 1);
    EXPECT_EQ(audio_piece_token_count(161 + 3 * 160), 1);
    EXPECT_EQ(audio_piece_token_count(161 + 4 * 160 - 1), 1);
    EXPECT_EQ(audio_piece_token_count(161 + 4 * 160), 2);
}

struct SplitCase {
    int64_t samples;
    std::vector<AudioPiece> pieces;
    int64_t tokens;
};

TEST(AudioPieces, SplitAudio) {
    const int64_t P = kAudioPieceSamples;
    const std::vector<SplitCase> cases = {
        {0, {}, 0},
        {160, {}, 0},                                 // shorter than one frame
        {161, {{0, 161}}, 1},                         // exactly one frame
        {P, {{0, P}}, 750},                           // exactly 30 s: one piece
        {P + 1, {{0, P}}, 750},                       // a 1-sample tail makes no frame: dropped
        {P + 160, {{0, P}}, 750},                     // still less than one frame
        {P + 161, {{0, P}, {P, 161}}, 751},           // the tail makes one frame: a second piece
        {10000000, {}, 20 * 750 + 625},               // 20 full pieces and 400000 samples (2499 frames)
    };
    for (const SplitCase& c : cases) {
        const std::vector<AudioPiece> got = split_audio(c.samples);
        if (c.samples == 10000000) {
            ASSERT_EQ(got.size(), 21u);
            for (size_t i = 0; i < 20; ++i) {
                EXPECT_EQ(got[i].first, int64_t(i) * P);
                EXPECT_EQ(got[i].count, P);
            }
            EXPECT_EQ(got[20].first, 20 * P);
            EXPECT_EQ(got[20].count, 400000);
        } else {
            ASSERT_EQ(got.size(), c.pieces.size()) << c.samples;
            for (size_t i = 0; i < got.size(); ++i) {
                EXPECT_EQ(got[i].first, c.pieces[i].first) << c.samples;
                EXPECT_EQ(got[i].count, c.pieces[i].count) << c.samples;
            }
        }
        int64_t sum = 0, covered = 0;
        for (const AudioPiece& p : got) {
            EXPECT_EQ(p.first, covered) << "pieces must be consecutive, " << c.samples;
            EXPECT_GE(p.count, kAudioMinSamples);
            EXPECT_LE(p.count, P);
            covered = p.first + p.count;
            sum += audio_piece_token_count(p.count);
        }
        EXPECT_EQ(audio_token_count(c.samples), c.tokens) << c.samples;
        EXPECT_EQ(sum, c.tokens) << c.samples;
        // Only a tail too short for a frame may be left out.
        EXPECT_LT(c.samples - covered, kAudioMinSamples) << c.samples;
    }
    // 1e7 samples = 625 s: still exactly 25 tokens per second.
    EXPECT_EQ(audio_token_count(10000000), 625 * 25);
}

TEST(AudioPieces, RuleIsStated) {
    const std::string rule = audio_piece_rule();
    EXPECT_NE(rule.find("30"), std::string::npos) << rule;
    EXPECT_NE(rule.find("25"), std::string::npos) << rule;
}

}  // namespace
}  // namespace gd
