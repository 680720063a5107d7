#pragma once
// A sound attached to a message (a microphone recording or a dropped audio file), as the chat
// history keeps it: a copy in the data folder named by its content ("audio/<sha256>.<ext>",
// relative, so a moved data folder still works), the name the user knew it by, its length and the
// soft tokens the audio tower turns it into. In a message's metadata JSON, beside the images:
//   "attachments": [{"kind": "audio", "file": "audio/<sha>.wav", "name": "Recording 14:02:11",
//                    "seconds": 3.42, "tokens": 86, "recorded": true}]
// (The attachments live in the messages' JSON column, so no schema migration is needed.)
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

namespace gd::ui {

struct StoredAudio {
    QString file;            // relative to the data folder
    QString name;            // shown to the user
    double seconds = 0;      // length after decoding (16 kHz)
    qint64 tokens = 0;       // gd::audio_token_count of the decoded clip
    bool recorded = false;   // made with the microphone (not a file the user had)

    bool operator==(const StoredAudio&) const = default;
};

// The audio attachments of a message's metadata, in order; malformed entries are skipped.
QList<StoredAudio> audioFromMeta(const QJsonObject& meta);
// Sets (or, for an empty list, removes) the audio attachments of `meta`, keeping other kinds.
void setAudioInMeta(QJsonObject& meta, const QList<StoredAudio>& clips);

// "0:07", "1:02:03" — a clip's length as players show it.
QString formatDuration(double seconds);

}  // namespace gd::ui

Q_DECLARE_METATYPE(gd::ui::StoredAudio)
