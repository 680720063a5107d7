#pragma once
// Where the user writes: a growing text box (Enter sends, Shift+Enter breaks the line), Send and Stop,
// a strip that will hold image and audio attachments (the vision and audio issues fill it), and a
// banner while an earlier message is being edited for resending.
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QToolButton;

namespace gd::ui {

class Composer : public QWidget {
    Q_OBJECT
public:
    explicit Composer(QWidget* parent = nullptr);

    QString text() const;
    void setText(const QString& text);
    void clear();
    void setBusy(bool generating);           // Send becomes Stop while an answer streams
    void setSendEnabled(bool enabled, const QString& why = {});
    void beginEdit(qint64 messageId, const QString& text);
    void cancelEdit();
    qint64 editingMessageId() const { return editing_; }
    QPlainTextEdit* input() const { return input_; }
    QWidget* attachmentStrip() const { return attachments_; }

signals:
    void sendRequested(const QString& text);
    void stopRequested();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void trySend();
    void adjustHeight();

    QPlainTextEdit* input_ = nullptr;
    QPushButton* send_ = nullptr;
    QPushButton* stop_ = nullptr;
    QWidget* attachments_ = nullptr;
    QWidget* editBanner_ = nullptr;
    QLabel* hint_ = nullptr;
    qint64 editing_ = 0;
    bool sendEnabled_ = true;
};

}  // namespace gd::ui
