#include "chat/audio_attachment_card.h"

#include <QGridLayout>
#include <QLabel>
#include <QToolButton>
#include "audio/features/audio_pieces.h"
#include "audio/io/audio_decode.h"
#include "chat/audio_icons.h"

namespace gd::ui {

QString describeClip(const StoredAudio& clip) {
    QString text = QObject::tr("%1 · %2 · %n audio token(s)", nullptr, int(clip.tokens)).arg(clip.name, formatDuration(clip.seconds));
    if (clip.seconds * gd::kAudioSampleRate > double(gd::kAudioPieceSamples))
        text += QStringLiteral("\n") + QString::fromStdString(gd::audio_piece_rule());
    return text;
}

AudioAttachmentCard::AudioAttachmentCard(const QString& name, QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("audioCard"));
    setAccessibleName(tr("Attached sound %1").arg(name));
    // (Kept with the card until the app's style sheet has rules for it; matches #imageCard.)
    setStyleSheet(QStringLiteral("#audioCard { background: #f6f8fa; border: 1px solid #e3e5e8; border-radius: 10px; }"
                                 "#audioCardName { font-weight: 600; }"
                                 "#audioCardDetail { color: #57606a; font-size: 9pt; }"
                                 "#removeAudioButton { border: none; color: #6e7781; font-size: 12pt; padding: 0 4px; }"
                                 "#removeAudioButton:hover { color: #c0392b; }"));
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(6, 6, 6, 6);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(2);

    play_ = new QToolButton(this);
    play_->setObjectName(QStringLiteral("playAudioButton"));
    play_->setAccessibleName(tr("Play %1").arg(name));
    play_->setIcon(playIcon(palette().color(QPalette::WindowText)));
    play_->setIconSize(QSize(22, 22));
    play_->setFixedSize(40, 40);
    play_->setEnabled(false);
    grid->addWidget(play_, 0, 0, 2, 1);

    name_ = new QLabel(this);
    name_->setObjectName(QStringLiteral("audioCardName"));
    name_->setText(fontMetrics().elidedText(name, Qt::ElideMiddle, 150));
    name_->setToolTip(name);
    grid->addWidget(name_, 0, 1);

    remove_ = new QToolButton(this);
    remove_->setObjectName(QStringLiteral("removeAudioButton"));
    remove_->setText(QStringLiteral("×"));
    remove_->setAccessibleName(tr("Remove %1").arg(name));
    remove_->setToolTip(tr("Remove this sound"));
    remove_->setAutoRaise(true);
    grid->addWidget(remove_, 0, 2, Qt::AlignRight | Qt::AlignTop);

    detail_ = new QLabel(tr("reading…"), this);
    detail_->setObjectName(QStringLiteral("audioCardDetail"));
    detail_->setMinimumWidth(detail_->fontMetrics().horizontalAdvance(tr("%1 · ≈ %2 audio tokens").arg(QStringLiteral("10:00")).arg(15000)));
    grid->addWidget(detail_, 1, 1, 1, 2);

    connect(remove_, &QToolButton::clicked, this, &AudioAttachmentCard::removeRequested);
    connect(play_, &QToolButton::clicked, this, [this] {
        if (isReady()) emit playRequested();
    });
}

void AudioAttachmentCard::setClip(const StoredAudio& clip) {
    clip_ = clip;
    play_->setEnabled(true);
    detail_->setText(detailText());
    setToolTip(describeClip(clip));
    detail_->setToolTip(toolTip());
}

QString AudioAttachmentCard::detailText() const {
    if (!isReady()) return {};
    return tr("%1 · ≈ %2 audio tokens").arg(formatDuration(clip_.seconds)).arg(clip_.tokens);
}

void AudioAttachmentCard::setPlaying(bool playing) {
    const QColor color = palette().color(QPalette::WindowText);
    play_->setIcon(playing ? stopIcon(color) : playIcon(color));
    play_->setAccessibleName(playing ? tr("Stop %1").arg(clip_.name) : tr("Play %1").arg(clip_.name));
    play_->setProperty("playing", playing);
}

}  // namespace gd::ui
