#include "chat/message_audio.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QToolButton>
#include "audio/audio_library.h"
#include "audio/audio_player.h"
#include "chat/audio_attachment_card.h"
#include "chat/audio_icons.h"

namespace gd::ui {

MessageAudio::MessageAudio(AudioLibrary& library, AudioPlayer& player, const QList<StoredAudio>& clips, QWidget* parent)
    : QWidget(parent), player_(player), clips_(clips) {
    setObjectName(QStringLiteral("messageAudio"));
    setStyleSheet(QStringLiteral("#messageAudioClip { border: 1px solid #dfe3e8; border-radius: 8px; background: #ffffff; padding: 4px 10px; }"
                                 "#messageAudioClip[missing=\"true\"] { color: #8c959f; font-style: italic; }"));
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(6);
    for (qsizetype i = 0; i < clips_.size(); ++i) {
        const StoredAudio& clip = clips_[i];
        auto* b = new QToolButton(this);
        b->setObjectName(QStringLiteral("messageAudioClip"));
        b->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        b->setIconSize(QSize(16, 16));
        b->setCursor(Qt::PointingHandCursor);
        b->setText(tr("%1 · %2").arg(clip.name, formatDuration(clip.seconds)));
        b->setToolTip(describeClip(clip));
        // One stat per clip when the message is shown: cheap, and the button can say at once that
        // the copy is gone instead of failing when clicked.
        const QString path = library.pathOf(clip.file);
        if (path.isEmpty() || !QFileInfo::exists(path)) {
            b->setText(tr("%1 · recording not found").arg(clip.name));
            b->setProperty("missing", true);
            b->setEnabled(false);
            b->setAccessibleName(tr("Sound %1 (not found)").arg(clip.name));
            b->setToolTip(tr("%1 is no longer in the app's audio folder.").arg(clip.name));
        } else {
            b->setProperty("missing", false);
            b->setIcon(playIcon(palette().color(QPalette::WindowText)));
            b->setAccessibleName(tr("Play %1").arg(clip.name));
        }
        row->addWidget(b);
        buttons_.append(b);
        connect(b, &QToolButton::clicked, this, [this, i] { player_.toggle(clips_[i].file); });
        if (player_.isPlaying(clip.file)) showPlaying(i, true);
    }
    row->addStretch(1);
    connect(&player_, &AudioPlayer::playingChanged, this, [this](const QString& file, bool playing) {
        for (qsizetype i = 0; i < clips_.size(); ++i)
            if (clips_[i].file == file) showPlaying(i, playing);
    });
}

void MessageAudio::showPlaying(qsizetype index, bool playing) {
    QToolButton* b = buttons_[index];
    if (b->property("missing").toBool()) return;
    const QColor color = palette().color(QPalette::WindowText);
    b->setIcon(playing ? stopIcon(color) : playIcon(color));
    b->setProperty("playing", playing);
    b->setAccessibleName(playing ? tr("Stop %1").arg(clips_[index].name) : tr("Play %1").arg(clips_[index].name));
}

}  // namespace gd::ui
