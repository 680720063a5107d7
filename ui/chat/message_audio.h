#pragma once
// The sounds of a sent message, as a row of play buttons above its text ("▶ Recording 14:02 · 0:05");
// one clip plays at a time (AudioPlayer). A stored copy that has gone missing says so in its place.
#include <QList>
#include <QWidget>
#include "audio/stored_audio.h"

class QToolButton;

namespace gd::ui {

class AudioLibrary;
class AudioPlayer;

class MessageAudio : public QWidget {
    Q_OBJECT
public:
    MessageAudio(AudioLibrary& library, AudioPlayer& player, const QList<StoredAudio>& clips, QWidget* parent = nullptr);
    const QList<StoredAudio>& clips() const { return clips_; }
    QList<QToolButton*> buttons() const { return buttons_; }

private:
    void showPlaying(qsizetype index, bool playing);

    AudioPlayer& player_;
    QList<StoredAudio> clips_;
    QList<QToolButton*> buttons_;
};

}  // namespace gd::ui
