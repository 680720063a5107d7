#include "chat/composer.h"

#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPainter>
#include <QPainterPath>
#include <QPushButton>
#include <QScrollArea>
#include <QStyle>
#include <QStandardPaths>
#include <QTextBlock>
#include <QTextLayout>
#include <QTime>
#include <QToolButton>
#include <QVBoxLayout>
#include "audio/audio_jobs.h"
#include "audio/audio_library.h"
#include "audio/audio_player.h"
#include "audio/audio_recorder.h"
#include "chat/audio_attachment_card.h"
#include "chat/audio_record_button.h"
#include "chat/image_attachment_card.h"
#include "chat/image_view_dialog.h"
#include "chat/message_input.h"
#include "images/image_library.h"

namespace gd::ui {

namespace {

// A small picture-frame glyph for the Attach button, drawn so it follows the palette and needs no
// image plugin.
QIcon attachIcon(const QColor& color) {
    QPixmap pm(40, 40);
    pm.fill(Qt::transparent);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(color, 3));
    p.drawRoundedRect(QRectF(5, 8, 30, 24), 4, 4);
    p.setBrush(color);
    p.setPen(Qt::NoPen);
    p.drawEllipse(QPointF(14, 16), 3, 3);
    QPainterPath hills;
    hills.moveTo(7, 30);
    hills.lineTo(17, 20);
    hills.lineTo(23, 26);
    hills.lineTo(27, 22);
    hills.lineTo(33, 30);
    hills.closeSubpath();
    p.drawPath(hills);
    return QIcon(pm);
}

}  // namespace

Composer::Composer(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("composer"));
    auto* col = new QVBoxLayout(this);
    col->setContentsMargins(24, 8, 24, 12);
    col->setSpacing(6);

    editBanner_ = new QWidget(this);
    editBanner_->setObjectName(QStringLiteral("editBanner"));
    auto* eb = new QHBoxLayout(editBanner_);
    eb->setContentsMargins(10, 4, 4, 4);
    eb->addWidget(new QLabel(tr("Editing a message: sending replaces it and everything after it."), editBanner_), 1);
    auto* cancelEditButton = new QToolButton(editBanner_);
    cancelEditButton->setObjectName(QStringLiteral("cancelEditButton"));
    cancelEditButton->setText(tr("Cancel"));
    cancelEditButton->setAccessibleName(tr("Cancel editing"));
    eb->addWidget(cancelEditButton);
    editBanner_->hide();
    col->addWidget(editBanner_);
    connect(cancelEditButton, &QToolButton::clicked, this, &Composer::cancelEdit);

    // The cards scroll sideways: many images must not widen the window.
    auto* scroller = new QScrollArea(this);
    scroller->setObjectName(QStringLiteral("attachments"));
    scroller->setAccessibleName(tr("Attachments"));
    scroller->setFrameShape(QFrame::NoFrame);
    scroller->setWidgetResizable(true);
    scroller->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroller->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    auto* strip = new QWidget(scroller);
    strip->setObjectName(QStringLiteral("attachmentCards"));
    cardsLayout_ = new QHBoxLayout(strip);
    cardsLayout_->setContentsMargins(0, 0, 0, 0);
    cardsLayout_->setSpacing(8);
    cardsLayout_->addStretch(1);
    scroller->setWidget(strip);
    scroller->viewport()->setAutoFillBackground(false);  // the composer's background shows through
    attachments_ = scroller;
    attachments_->hide();  // shown when an image or a recording is attached
    col->addWidget(attachments_);

    auto* box = new QFrame(this);
    box->setObjectName(QStringLiteral("inputBox"));
    auto* row = new QHBoxLayout(box);
    row->setContentsMargins(6, 6, 6, 6);
    attach_ = new QToolButton(box);
    attach_->setObjectName(QStringLiteral("attachImageButton"));
    attach_->setAccessibleName(tr("Attach images or sounds"));
    attach_->setToolTip(tr("Attach images or sounds (or drop them here, or paste with Ctrl+V)"));
    attach_->setIcon(attachIcon(palette().color(QPalette::WindowText)));
    attach_->setIconSize(QSize(20, 20));
    attach_->setAutoRaise(true);
    attach_->setEnabled(false);  // until there is an image library
    row->addWidget(attach_, 0, Qt::AlignBottom);
    input_ = new MessageInput(box);
    input_->setObjectName(QStringLiteral("messageInput"));
    input_->setAccessibleName(tr("Message"));
    input_->setPlaceholderText(tr("Ask anything… (Enter sends, Shift+Enter for a new line)"));
    input_->setTabChangesFocus(true);
    input_->setFrameShape(QFrame::NoFrame);
    input_->installEventFilter(this);
    row->addWidget(input_, 1);
    recorder_ = new AudioRecordButton(box);
    recorder_->setEnabled(false);  // until there is an audio library
    row->addWidget(recorder_, 0, Qt::AlignBottom);
    send_ = new QPushButton(tr("Send"), box);
    send_->setObjectName(QStringLiteral("sendButton"));
    send_->setAccessibleName(tr("Send message"));
    send_->setToolTip(tr("Send (Ctrl+Enter)"));
    send_->setDefault(true);
    stop_ = new QPushButton(tr("Stop"), box);
    stop_->setObjectName(QStringLiteral("stopButton"));
    stop_->setAccessibleName(tr("Stop the answer"));
    stop_->setToolTip(tr("Stop (Esc)"));
    stop_->hide();
    row->addWidget(send_, 0, Qt::AlignBottom);
    row->addWidget(stop_, 0, Qt::AlignBottom);
    col->addWidget(box);

    hint_ = new QLabel(this);
    hint_->setObjectName(QStringLiteral("composerHint"));
    hint_->hide();
    col->addWidget(hint_);

    voiceNotice_ = new QWidget(this);
    voiceNotice_->setObjectName(QStringLiteral("voiceNotice"));
    auto* vn = new QHBoxLayout(voiceNotice_);
    vn->setContentsMargins(4, 0, 0, 0);
    voiceNoticeText_ = new QLabel(voiceNotice_);
    voiceNoticeText_->setObjectName(QStringLiteral("voiceNoticeText"));
    voiceNoticeText_->setWordWrap(true);
    voiceNoticeText_->setStyleSheet(QStringLiteral("color: #9a6700;"));
    voiceNoticeAction_ = new QPushButton(tr("Choose E2B or E4B…"), voiceNotice_);
    voiceNoticeAction_->setObjectName(QStringLiteral("voiceNoticeAction"));
    voiceNoticeAction_->setAccessibleName(tr("Choose a model that understands speech"));
    auto* dismissNotice = new QToolButton(voiceNotice_);
    dismissNotice->setObjectName(QStringLiteral("dismissVoiceNotice"));
    dismissNotice->setText(QStringLiteral("×"));
    dismissNotice->setAccessibleName(tr("Dismiss the notice"));
    dismissNotice->setAutoRaise(true);
    vn->addWidget(voiceNoticeText_, 1);
    vn->addWidget(voiceNoticeAction_);
    vn->addWidget(dismissNotice);
    voiceNotice_->hide();
    col->addWidget(voiceNotice_);
    connect(dismissNotice, &QToolButton::clicked, this, &Composer::hideVoiceNotice);
    connect(voiceNoticeAction_, &QPushButton::clicked, this, [this] {
        hideVoiceNotice();
        emit audioModelsRequested();
    });
    connect(recorder_, &AudioRecordButton::recorded, this, &Composer::onRecorded);
    connect(recorder_, &AudioRecordButton::failed, this, [this](const QString& message) { showVoiceNotice(message); });
    connect(recorder_, &AudioRecordButton::discarded, this, [this] { sendAfterRecording_ = false; });
    connect(recorder_, &AudioRecordButton::recordingChanged, this, [this](bool on) {
        if (on) {
            hideVoiceNotice();
            emit recordingStarted();
        }
    });
    // (A disabled microphone button says why in its tooltip; the keyboard shortcut, which has no
    // tooltip, shows the reason as a notice instead: see voiceKey().)

    // Images dropped anywhere on the composer (the text box takes its own, see MessageInput).
    new ImageDropFilter(this, [this](const OfferedImages& offered) { attach(offered); });
    connect(input_, &MessageInput::imagesOffered, this, &Composer::attach);
    connect(attach_, &QToolButton::clicked, this, &Composer::openAttachDialog);
    connect(send_, &QPushButton::clicked, this, &Composer::submit);
    connect(stop_, &QPushButton::clicked, this, &Composer::stopRequested);
    connect(input_, &QPlainTextEdit::textChanged, this, &Composer::adjustHeight);
    adjustHeight();
}

QPlainTextEdit* Composer::input() const { return input_; }
QString Composer::text() const { return input_->toPlainText(); }
void Composer::setText(const QString& text) { input_->setPlainText(text); }

void Composer::clear() {
    input_->clear();
    clearImages();
    clearAudio();
}

void Composer::setBusy(bool generating) {
    send_->setVisible(!generating);
    stop_->setVisible(generating);
}

void Composer::setSendEnabled(bool enabled, const QString& why) {
    sendEnabled_ = enabled;
    hintText_ = enabled ? QString() : why;
    send_->setEnabled(enabled);
    hint_->setText(hintText_);
    hint_->setVisible(!hintText_.isEmpty());
}

void Composer::beginEdit(qint64 messageId, const QString& text, const QList<StoredImage>& images,
                         const QList<StoredAudio>& audio) {
    editing_ = messageId;
    setText(text);
    clearImages();
    clearAudio();
    for (const StoredAudio& clip : audio) addAudioCard(clip.name)->setClip(clip);
    // The edited message's images are already stored: cards are ready at once.
    for (const StoredImage& image : images) {
        ImageAttachmentCard* card = addCard(image.name, image.budget);
        card->setImage(image);
        if (library_) card->setThumbnail(library_->thumbnail(image.file));
    }
    editBanner_->show();
    input_->setFocus();
    input_->moveCursor(QTextCursor::End);
}

void Composer::cancelEdit() {
    if (editing_ == 0) return;
    editing_ = 0;
    editBanner_->hide();
    clear();
}

void Composer::submit() {
    if (recorder_->recorder()->isBusy() && sendEnabled_ && send_->isVisible()) {
        // Enter while recording (or just after a release): the recording ends here and goes with
        // the message once stored.
        sendAfterRecording_ = true;
        recorder_->stop();
        return;
    }
    const QString text = input_->toPlainText().trimmed();
    if ((text.isEmpty() && cards_.isEmpty() && audioCards_.isEmpty()) || !sendEnabled_ || !send_->isVisible()) return;
    if (imagesPending() || audioPending()) {
        hint_->setText(imagesPending() ? tr("Wait a moment: an image is still being read.")
                                       : tr("Wait a moment: a sound is still being read."));
        hint_->show();
        return;
    }
    sendAfterRecording_ = false;
    emit sendRequested(text, images(), audioClips());
}

// ---------------------------------------------------------------------------------------------
// Images

void Composer::setImageLibrary(ImageLibrary* library) {
    if (library_) disconnect(library_, nullptr, this, nullptr);
    library_ = library;
    attach_->setEnabled(library_ != nullptr);
    if (!library_) return;
    connect(library_, &ImageLibrary::attached, this, &Composer::onAttached);
    connect(library_, &ImageLibrary::attachFailed, this, &Composer::onAttachFailed);
    connect(library_, &ImageLibrary::thumbnailReady, this, &Composer::onThumbnail);
}

void Composer::setDefaultImageBudget(int budget) { defaultBudget_ = budget; }

void Composer::attachFiles(const QStringList& paths) {
    for (const QString& path : paths) {
        // (offeredAsAudio reads at most 64 bytes of a header: fine on the UI thread.)
        if (audioLibrary_ && offeredAsAudio(path)) audioPending_.insert(audioLibrary_->attachFile(path), addAudioCard(QFileInfo(path).fileName()));
        else if (library_) pending_.insert(library_->attachFile(path), addCard(QFileInfo(path).fileName(), defaultBudget_));
    }
    if (!paths.isEmpty()) lastFolder_ = QFileInfo(paths.back()).absolutePath();
}

void Composer::attachImage(const QImage& image, const QString& name) {
    if (!library_) return;
    pending_.insert(library_->attachImage(image, name), addCard(name, defaultBudget_));
}

void Composer::attach(const OfferedImages& offered) {
    if (!offered.files.isEmpty()) attachFiles(offered.files);
    else if (!offered.image.isNull()) attachImage(offered.image, tr("Pasted image"));
}

void Composer::openAttachDialog() {
    if (!library_) return;
    auto* dialog = new QFileDialog(this, tr("Attach images or sounds"));
    dialog->setObjectName(QStringLiteral("attachImageDialog"));
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setFileMode(QFileDialog::ExistingFiles);
    dialog->setDirectory(lastFolder_.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::PicturesLocation) : lastFolder_);
    dialog->setNameFilters({tr("Images and sounds (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif "
                               "*.wav *.mp3 *.flac *.ogg *.opus *.m4a *.webm)"),
                            tr("Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff *.gif)"),
                            tr("Sounds (*.wav *.mp3 *.flac *.ogg *.opus *.m4a *.aac *.webm)"), tr("PNG (*.png)"),
                            tr("JPEG (*.jpg *.jpeg)"), tr("WebP (*.webp)"), tr("BMP (*.bmp)"), tr("TIFF (*.tif *.tiff)"),
                            tr("GIF (*.gif)"), tr("All files (*)")});
    connect(dialog, &QFileDialog::filesSelected, this, &Composer::attachFiles);
    dialog->open();
}

QList<StoredImage> Composer::images() const {
    QList<StoredImage> out;
    for (const ImageAttachmentCard* card : cards_)
        if (card->isReady()) out.append(card->image());
    return out;
}

bool Composer::imagesPending() const { return !pending_.isEmpty(); }

void Composer::clearImages() {
    QStringList discarded;
    for (ImageAttachmentCard* card : cards_) {
        if (card->isReady()) discarded.append(card->image().file);
        card->hide();
        card->deleteLater();
    }
    cards_.clear();
    pending_.clear();  // answers still on their way find no card and are dropped
    showStripIfNeeded();
    if (!discarded.isEmpty()) emit imagesDiscarded(discarded);
}

ImageAttachmentCard* Composer::addCard(const QString& name, int budget) {
    auto* card = new ImageAttachmentCard(name, budget, cardsLayout_->parentWidget());
    cardsLayout_->insertWidget(cardsLayout_->count() - 1, card);  // before the stretch
    cards_.append(card);
    showStripIfNeeded();
    connect(card, &ImageAttachmentCard::removeRequested, this, [this, card] { removeCard(card); });
    connect(card, &ImageAttachmentCard::previewRequested, this, [this, card] { previewCard(card); });
    return card;
}

void Composer::removeCard(ImageAttachmentCard* card) {
    const qsizetype at = cards_.indexOf(card);
    if (at < 0) return;
    cards_.removeAt(at);
    for (auto it = pending_.begin(); it != pending_.end();)
        it = it.value() == card ? pending_.erase(it) : std::next(it);
    const bool ready = card->isReady();
    const QString file = card->image().file;
    card->hide();
    card->deleteLater();
    showStripIfNeeded();
    input_->setFocus();
    if (ready) emit imagesDiscarded({file});
}

void Composer::previewCard(ImageAttachmentCard* card) {
    if (!library_ || !card->isReady()) return;
    const StoredImage image = card->image();
    auto* dialog = new ImageViewDialog(*library_, tr("%1 as the model sees it").arg(image.name), window());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->showForModel(image.file, image.budget,
                         tr("%1 at %2: this is the picture the model gets (original %3×%4).")
                             .arg(image.name, card->detailText()).arg(image.width).arg(image.height));
    dialog->open();
}

void Composer::onAttached(quint64 ticket, const StoredImage& image, const QImage& thumbnail) {
    ImageAttachmentCard* card = pending_.take(ticket);
    if (!card) {
        emit imagesDiscarded({image.file});  // removed (or sent without it) while it was read
        return;
    }
    card->setImage(image);
    card->setThumbnail(thumbnail);
    if (pending_.isEmpty()) {
        hint_->setText(hintText_);
        hint_->setVisible(!hintText_.isEmpty());
    }
}

void Composer::onAttachFailed(quint64 ticket, const QString& message) {
    ImageAttachmentCard* card = pending_.take(ticket);
    if (!card) return;
    removeCard(card);
    emit attachFailed(message);
}

void Composer::onThumbnail(const QString& file, const QImage& thumbnail) {
    for (ImageAttachmentCard* card : cards_)
        if (card->isReady() && card->image().file == file) card->setThumbnail(thumbnail);
}

bool Composer::eventFilter(QObject* watched, QEvent* event) {
    if (watched == input_ && event->type() == QEvent::KeyRelease) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Space && voiceKeyHeld_ && !key->isAutoRepeat()) {
            voiceKey(false, false);
            return true;
        }
    }
    if (watched == input_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        if (key->key() == Qt::Key_Space && (key->modifiers() & Qt::ControlModifier)) {
            if (!key->isAutoRepeat()) voiceKey(true, key->modifiers().testFlag(Qt::ShiftModifier));
            return true;
        }
        if (key->key() == Qt::Key_Escape && recorder_->isRecording()) {
            recorder_->cancel();
            return true;
        }
        const bool enter = key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter;
        if (enter && !(key->modifiers() & Qt::ShiftModifier)) {
            submit();
            return true;
        }
        if (key->key() == Qt::Key_Escape && editing_ != 0) {
            cancelEdit();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}

// ---------------------------------------------------------------------------------------------
// Sounds

void Composer::setAudio(AudioLibrary* library, AudioPlayer* player) {
    if (audioLibrary_) disconnect(audioLibrary_, nullptr, this, nullptr);
    if (player_) disconnect(player_, nullptr, this, nullptr);
    audioLibrary_ = library;
    player_ = player;
    recorder_->setEnabled(library != nullptr);
    if (!library) return;
    connect(audioLibrary_, &AudioLibrary::attached, this, &Composer::onAudioAttached);
    connect(audioLibrary_, &AudioLibrary::attachFailed, this, &Composer::onAudioAttachFailed);
    if (player_) {
        connect(player_, &AudioPlayer::playingChanged, this, [this](const QString& file, bool playing) {
            for (AudioAttachmentCard* card : audioCards_)
                if (card->isReady() && card->clip().file == file) card->setPlaying(playing);
        });
        connect(player_, &AudioPlayer::failed, this, [this](const QString& message) { showVoiceNotice(message); });
    }
}

QList<StoredAudio> Composer::audioClips() const {
    QList<StoredAudio> out;
    for (const AudioAttachmentCard* card : audioCards_)
        if (card->isReady()) out.append(card->clip());
    return out;
}

void Composer::clearAudio() {
    QStringList discarded;
    for (AudioAttachmentCard* card : audioCards_) {
        if (card->isReady()) {
            discarded.append(card->clip().file);
            if (player_ && player_->isPlaying(card->clip().file)) player_->stop();
        }
        card->hide();
        card->deleteLater();
    }
    audioCards_.clear();
    audioPending_.clear();
    showStripIfNeeded();
    if (!discarded.isEmpty()) emit audioDiscarded(discarded);
}

void Composer::setVoiceUnavailable(const QString& reason, bool offerAudioModels) {
    offerAudioModels_ = offerAudioModels;
    recorder_->setUnavailable(reason);
    // A notice about the microphone is stale once it works again.
    if (reason.isEmpty() && voiceNoticeAction_->isVisible()) hideVoiceNotice();
}

void Composer::showVoiceNotice(const QString& text, bool offerAudioModels) {
    voiceNoticeText_->setText(text);
    voiceNoticeAction_->setVisible(offerAudioModels);
    voiceNotice_->show();
}

void Composer::hideVoiceNotice() { voiceNotice_->hide(); }

QString Composer::voiceNoticeText() const { return voiceNotice_->isVisible() ? voiceNoticeText_->text() : QString(); }

void Composer::voiceKey(bool down, bool toggle) {
    if (down && !recorder_->isRecording() && !recorder_->isAvailable()) {
        showVoiceNotice(recorder_->unavailableReason(), offerAudioModels_);
        return;
    }
    if (toggle) {
        if (down) recorder_->toggle();
        return;
    }
    voiceKeyHeld_ = down;
    if (down) recorder_->pressBegin();
    else recorder_->pressEnd();
}

void Composer::onRecorded(const std::vector<float>& samples, int rate, const QString& notice) {
    if (!notice.isEmpty()) showVoiceNotice(notice);
    if (!audioLibrary_) return;
    if (samples.size() < size_t(rate / 10)) {  // under a tenth of a second: a slip of the finger
        sendAfterRecording_ = false;
        if (notice.isEmpty()) showVoiceNotice(tr("Nothing was recorded: the microphone sent no sound. Hold the button while you speak."));
        return;
    }
    const QString name = tr("Recording %1").arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss")));
    audioPending_.insert(audioLibrary_->attachRecording(samples, rate, name), addAudioCard(name));
}

void Composer::onAudioAttached(quint64 ticket, const StoredAudio& clip) {
    AudioAttachmentCard* card = audioPending_.take(ticket);
    if (!card) {
        emit audioDiscarded({clip.file});  // removed (or sent without it) while it was read
        return;
    }
    card->setClip(clip);
    if (audioPending_.isEmpty() && !imagesPending()) {
        hint_->setText(hintText_);
        hint_->setVisible(!hintText_.isEmpty());
        if (sendAfterRecording_) submit();
    }
}

void Composer::onAudioAttachFailed(quint64 ticket, const QString& message) {
    AudioAttachmentCard* card = audioPending_.take(ticket);
    if (!card) return;
    sendAfterRecording_ = false;
    removeAudioCard(card);
    emit attachFailed(message);
}

AudioAttachmentCard* Composer::addAudioCard(const QString& name) {
    auto* card = new AudioAttachmentCard(name, cardsLayout_->parentWidget());
    cardsLayout_->insertWidget(cardsLayout_->count() - 1, card);  // before the stretch
    audioCards_.append(card);
    showStripIfNeeded();
    connect(card, &AudioAttachmentCard::removeRequested, this, [this, card] { removeAudioCard(card); });
    connect(card, &AudioAttachmentCard::playRequested, this, [this, card] {
        if (player_ && card->isReady()) player_->toggle(card->clip().file);
    });
    return card;
}

void Composer::removeAudioCard(AudioAttachmentCard* card) {
    const qsizetype at = audioCards_.indexOf(card);
    if (at < 0) return;
    audioCards_.removeAt(at);
    for (auto it = audioPending_.begin(); it != audioPending_.end();)
        it = it.value() == card ? audioPending_.erase(it) : std::next(it);
    const bool ready = card->isReady();
    const QString file = card->clip().file;
    if (ready && player_ && player_->isPlaying(file)) player_->stop();
    card->hide();
    card->deleteLater();
    showStripIfNeeded();
    input_->setFocus();
    if (ready) emit audioDiscarded({file});
}

void Composer::showStripIfNeeded() {
    const bool any = !cards_.isEmpty() || !audioCards_.isEmpty();
    if (any) {
        // As tall as the tallest card and the scroll bar that many cards bring.
        int height = 0;
        for (QWidget* c : cards_) height = std::max(height, c->sizeHint().height());
        for (QWidget* c : audioCards_) height = std::max(height, c->sizeHint().height());
        const int bar = attachments_->style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, attachments_);
        attachments_->setFixedHeight(height + bar + 4);
    }
    attachments_->setVisible(any);
}

void Composer::adjustHeight() {
    // Grow with the text up to about eight lines, then scroll.
    const int lineHeight = input_->fontMetrics().lineSpacing();
    int lines = 0;
    for (QTextBlock b = input_->document()->begin(); b.isValid(); b = b.next())
        lines += qMax(1, b.layout() ? b.layout()->lineCount() : 1);
    const int shown = qBound(1, lines, 8);
    input_->setFixedHeight(shown * lineHeight + 12);
}

}  // namespace gd::ui
