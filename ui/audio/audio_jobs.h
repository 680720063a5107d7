#pragma once
// The slow parts of attaching and playing sounds, run on a pool thread (AudioLibrary queues them):
// checking a file with the engine's own decoder (gd::decode_audio_bytes: content, not extension,
// decides; a damaged file is refused in plain words), turning a microphone recording into a WAV
// file, storing the copy, and decoding a stored clip for playback. Nothing here touches widgets.
#include <QByteArray>
#include <QString>
#include <vector>
#include "audio/stored_audio.h"

namespace gd::ui {

struct AudioAttachResult {
    StoredAudio clip;
    QString error;   // "" on success
};

struct AudioPlaybackResult {
    QByteArray pcm16;   // 16 kHz mono signed 16-bit little-endian, what the output device plays
    double seconds = 0;
    QString error;
};

// Bytes read at most from a dropped file (10 minutes of 48 kHz stereo WAV are 110 MB).
inline constexpr qint64 kMaxAudioFileBytes = qint64(256) << 20;

// Whether `path` should be attached as a sound (rather than as an image): its first bytes look
// like an audio container, or its extension names one (then the decoder says what is wrong).
bool offeredAsAudio(const QString& path);

// Checks `path` is a sound the model can take and stores a copy under root.
AudioAttachResult attachAudioFile(const QString& root, const QString& path);
// A recording: `samples` mono at `rate` Hz, stored as 16-bit PCM WAV at that rate (the engine's
// decoder resamples it to 16 kHz exactly as it does any file).
AudioAttachResult attachRecording(const QString& root, const std::vector<float>& samples, int rate, const QString& name);

// A stored clip decoded for playback.
AudioPlaybackResult decodeForPlayback(const QString& path);

}  // namespace gd::ui
