#pragma once
// One sound attached in the composer (a recording or a dropped file), beside the image cards: a
// play/stop button, its name, its length and what it costs the model ("0:12 · ≈ 300 audio
// tokens", from the engine's own rule, gd::audio_token_count), and a remove button. A clip longer
// than the encoder's 30 s window says in its tooltip how it will be split (gd::audio_piece_rule).
// While the file is still being checked and stored the card shows only the name.
#include <QFrame>
#include "audio/stored_audio.h"

class QLabel;
class QToolButton;

namespace gd::ui {

class AudioAttachmentCard : public QFrame {
    Q_OBJECT
public:
    explicit AudioAttachmentCard(const QString& name, QWidget* parent = nullptr);

    void setClip(const StoredAudio& clip);
    bool isReady() const { return !clip_.file.isEmpty(); }
    StoredAudio clip() const { return clip_; }
    void setPlaying(bool playing);
    QString detailText() const;   // "0:12 · ≈ 300 audio tokens" ("" until ready)

signals:
    void removeRequested();
    void playRequested();

private:
    StoredAudio clip_;
    QToolButton* play_ = nullptr;
    QLabel* name_ = nullptr;
    QLabel* detail_ = nullptr;
    QToolButton* remove_ = nullptr;
};

// The tooltip of a clip: its name, length, tokens, and for clips over 30 s the split rule.
QString describeClip(const StoredAudio& clip);

}  // namespace gd::ui
