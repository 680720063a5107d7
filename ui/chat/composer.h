#pragma once
// Where the user writes: a growing text box (Enter sends, Shift+Enter breaks the line), Send and Stop,
// a strip of attached images (dropped, pasted with Ctrl+V, or picked with the Attach button; each
// with its own detail slider), and a banner while an earlier message is being edited for resending.
//
// Attaching reads and copies the file on ImageLibrary's threads: a card shows at once and fills in
// when the image has been checked; one that can't be used disappears and attachFailed() says why.
// Sending waits until every card is ready.
#include <QHash>
#include <QList>
#include <QWidget>
#include "images/image_mime.h"
#include "images/stored_image.h"

class QHBoxLayout;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QToolButton;

namespace gd::ui {

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
    void beginEdit(qint64 messageId, const QString& text, const QList<StoredImage>& images = {});
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

signals:
    void sendRequested(const QString& text, const QList<gd::ui::StoredImage>& images);
    void stopRequested();
    void attachFailed(const QString& message);
    // A card was removed (or the composer cleared) without sending: its copy may be unused now.
    void imagesDiscarded(const QStringList& files);

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
};

}  // namespace gd::ui
