#pragma once
// The conversation pane: messages top to bottom in a scroll area that follows a streaming answer
// while the user is at the bottom (and stays put when they scrolled up to read), and a welcome
// state when the conversation is empty.
#include <QScrollArea>
#include <QString>

class QLabel;
class QVBoxLayout;

namespace gd::ui {

class MessageWidget;

class ChatView : public QScrollArea {
    Q_OBJECT
public:
    explicit ChatView(QWidget* parent = nullptr);

    void clear();
    MessageWidget* appendMessage(qint64 messageId, const QString& role, const QString& text,
                                 const QString& thinking = {});
    MessageWidget* findMessage(qint64 messageId) const;
    QList<MessageWidget*> messages() const;
    MessageWidget* lastMessage() const;
    // Which messages offer edit (every user message) and regenerate (the last answer, when idle).
    void updateActions(bool busy);
    void setWelcome(const QString& title, const QString& text);
    void scrollToBottomIfFollowing();

signals:
    void editRequested(qint64 messageId);
    void regenerateRequested(qint64 messageId);
    void readAloudRequested(qint64 messageId);

private:
    QWidget* content_ = nullptr;
    QVBoxLayout* list_ = nullptr;
    QWidget* welcome_ = nullptr;
    QLabel* welcomeTitle_ = nullptr;
    QLabel* welcomeText_ = nullptr;
    bool following_ = true;
};

}  // namespace gd::ui
