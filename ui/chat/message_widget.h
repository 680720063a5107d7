#pragma once
// One message of a conversation as the user sees it: who wrote it, the text rendered as markdown
// (prose through Qt's renderer, code blocks as CodeBlockWidgets), the thinking channel collapsed
// behind a toggle, a status line (generating, interrupted, statistics) and the actions that apply
// (copy; edit for the user's messages; regenerate for the last answer). A user's message shows its
// images as thumbnails above the text.
// While an answer streams, only the segments whose text changed are re-rendered.
#include <QFrame>
#include <QList>
#include "chat/markdown_segments.h"
#include "audio/stored_audio.h"
#include "images/stored_image.h"

class QLabel;
class QToolButton;
class QVBoxLayout;

namespace gd::ui {

class AudioLibrary;
class AudioPlayer;
class ImageLibrary;
class MessageAudio;
class MessageImages;

class MessageWidget : public QFrame {
    Q_OBJECT
    Q_PROPERTY(QString role READ role CONSTANT)
public:
    MessageWidget(qint64 messageId, const QString& role, QWidget* parent = nullptr);

    qint64 messageId() const { return messageId_; }
    void setMessageId(qint64 id) { messageId_ = id; }
    QString role() const { return role_; }
    QString text() const { return text_; }
    QString thinking() const { return thinking_; }

    void setText(const QString& markdown);
    void setImages(ImageLibrary& library, const QList<StoredImage>& images);
    QList<StoredImage> images() const;
    void setAudio(AudioLibrary& library, AudioPlayer& player, const QList<StoredAudio>& clips);
    QList<StoredAudio> audio() const;
    MessageAudio* audioRow() const { return audio_; }
    void setSpeaking(bool speaking);   // the Read aloud button becomes Stop reading
    void setThinking(const QString& thinking);
    void appendDelta(const QString& answer, const QString& thinking);
    // "" for a finished message; otherwise a short note shown beside the author ("interrupted").
    void setStatus(const QString& status);
    void setDetails(const QString& details);  // statistics line under an answer
    void setActions(bool canEdit, bool canRegenerate);
    bool thinkingExpanded() const;
    void setThinkingExpanded(bool expanded);

signals:
    void editRequested(qint64 messageId);
    void regenerateRequested(qint64 messageId);
    void readAloudRequested(qint64 messageId);

private:
    void render();

    qint64 messageId_;
    QString role_, text_, thinking_;
    QList<MarkdownSegment> segments_;
    QList<QWidget*> segmentWidgets_;
    QWidget* bubble_ = nullptr;
    QVBoxLayout* body_ = nullptr;
    QVBoxLayout* imagesSlot_ = nullptr;
    MessageImages* images_ = nullptr;
    MessageAudio* audio_ = nullptr;
    QLabel* author_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* details_ = nullptr;
    QToolButton* thinkingToggle_ = nullptr;
    QLabel* thinkingText_ = nullptr;
    QToolButton* copy_ = nullptr;
    QToolButton* edit_ = nullptr;
    QToolButton* regenerate_ = nullptr;
    QToolButton* readAloud_ = nullptr;
};

}  // namespace gd::ui
