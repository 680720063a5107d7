#pragma once
// Where the user writes: a growing text box (Enter sends, Shift+Enter breaks the line), Send and Stop,
// a strip of attached images (dropped, pasted with Ctrl+V, or picked with the Attach button; each
// with its own detail slider), and a banner while an earlier message is being edited for resending.
//
// Attaching reads and copies the file on ImageLibrary's threads: a card shows at once and fills in
// when the image has been checked; one that can't be used disappears and attachFailed() says why.
// Sending waits until every card is ready.
//
// Voice: a microphone button (AudioRecordButton: hold to talk, click to toggle; Ctrl+Space held or
// Ctrl+Shift+Space in the text box; Esc discards) records into a card like an image's, with its
// length, its token cost and a play button. Audio files dropped, pasted or picked become such cards
// too: a file whose first bytes look like audio (or whose extension names an audio format) goes to
// AudioLibrary, anything else to ImageLibrary, and each library's decoder says what is wrong with a
// bad one. A notice line under the box tells what happened to a recording that ended by itself (the
// time limit, a microphone unplugged) and why the microphone can't be used.
#include <QHash>
#include <QList>
#include <QWidget>
#include <vector>
#include "audio/stored_audio.h"
#include "images/image_mime.h"
#include "images/stored_image.h"

class QHBoxLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QToolButton;

namespace gd::ui {

class AudioAttachmentCard;
class AudioLibrary;
class AudioPlayer;
class AudioRecordButton;
class ImageAttachmentCard;
class ImageLibrary;
class MessageInput;

class Composer : public QWidget {
    Q_OBJECT
public:
    explicit Composer(QWidget* parent = nullptr);

    QString text() const;
    void setText(const QString& text);
    void clear();                            // the text and the attachments
    void setBusy(bool generating);           // Send becomes Stop while an answer streams
    void setSendEnabled(bool enabled, const QString& why = {});
    void beginEdit(qint64 messageId, const QString& text, const QList<StoredImage>& images = {},
                   const QList<StoredAudio>& audio = {});
    void cancelEdit();
    qint64 editingMessageId() const { return editing_; }
    QPlainTextEdit* input() const;
    QWidget* attachmentStrip() const { return attachments_; }
    void submit();                           // what Send does (Enter, Ctrl+Enter)

    // Images. Without a library (tests of other parts) nothing can be attached.
    void setImageLibrary(ImageLibrary* library);
    void setDefaultImageBudget(int budget);  // for images attached from now on
    void attachFiles(const QStringList& paths);
    void attachImage(const QImage& image, const QString& name);
    void attach(const OfferedImages& offered);
    void openAttachDialog();
    QList<StoredImage> images() const;       // the ready ones, in order, with their budgets
    QList<ImageAttachmentCard*> imageCards() const { return cards_; }
    bool imagesPending() const;              // some are still being read
    void clearImages();

    // Sounds. Without a library nothing can be recorded or attached.
    void setAudio(AudioLibrary* library, AudioPlayer* player);
    QList<StoredAudio> audioClips() const;   // the ready ones, in order
    QList<AudioAttachmentCard*> audioCards() const { return audioCards_; }
    bool audioPending() const { return !audioPending_.isEmpty(); }
    void clearAudio();
    AudioRecordButton* recordButton() const { return recorder_; }
    // Why the microphone can't be used ("" = it can); with `offerAudioModels` the notice shown when
    // the user tries anyway offers to pick a model that hears.
    void setVoiceUnavailable(const QString& reason, bool offerAudioModels = false);
    void showVoiceNotice(const QString& text, bool offerAudioModels = false);
    void hideVoiceNotice();
    QWidget* voiceNotice() const { return voiceNotice_; }
    QString voiceNoticeText() const;

signals:
    void sendRequested(const QString& text, const QList<gd::ui::StoredImage>& images,
                       const QList<gd::ui::StoredAudio>& audio);
    void stopRequested();
    void attachFailed(const QString& message);
    // A card was removed (or the composer cleared) without sending: its copy may be unused now.
    void imagesDiscarded(const QStringList& files);
    void audioDiscarded(const QStringList& files);
    void audioModelsRequested();   // "Choose E2B or E4B…" in the voice notice
    void recordingStarted();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    ImageAttachmentCard* addCard(const QString& name, int budget);
    void removeCard(ImageAttachmentCard* card);
    void previewCard(ImageAttachmentCard* card);
    void onAttached(quint64 ticket, const StoredImage& image, const QImage& thumbnail);
    void onAttachFailed(quint64 ticket, const QString& message);
    void onThumbnail(const QString& file, const QImage& thumbnail);
    void adjustHeight();
    AudioAttachmentCard* addAudioCard(const QString& name);
    void removeAudioCard(AudioAttachmentCard* card);
    void onRecorded(const std::vector<float>& samples, int rate, const QString& notice);
    void onAudioAttached(quint64 ticket, const StoredAudio& clip);
    void onAudioAttachFailed(quint64 ticket, const QString& message);
    void showStripIfNeeded();
    void voiceKey(bool down, bool toggle);

    MessageInput* input_ = nullptr;
    QToolButton* attach_ = nullptr;
    QPushButton* send_ = nullptr;
    QPushButton* stop_ = nullptr;
    QWidget* attachments_ = nullptr;         // a sideways-scrolling strip of the cards
    QHBoxLayout* cardsLayout_ = nullptr;
    QWidget* editBanner_ = nullptr;
    QLabel* hint_ = nullptr;
    QString hintText_;                       // the hint setSendEnabled() asked for
    qint64 editing_ = 0;
    bool sendEnabled_ = true;

    ImageLibrary* library_ = nullptr;
    int defaultBudget_ = 280;
    QList<ImageAttachmentCard*> cards_;      // in the strip's order
    QHash<quint64, ImageAttachmentCard*> pending_;  // attach ticket -> its card
    QString lastFolder_;                     // where the attach dialog opens next

    AudioLibrary* audioLibrary_ = nullptr;
    AudioPlayer* player_ = nullptr;
    AudioRecordButton* recorder_ = nullptr;
    QList<AudioAttachmentCard*> audioCards_;
    QHash<quint64, AudioAttachmentCard*> audioPending_;
    bool offerAudioModels_ = false;
    bool sendAfterRecording_ = false;        // Enter while recording: stop, then send with it
    bool voiceKeyHeld_ = false;
    QWidget* voiceNotice_ = nullptr;
    QLabel* voiceNoticeText_ = nullptr;
    QPushButton* voiceNoticeAction_ = nullptr;
};

}  // namespace gd::ui
