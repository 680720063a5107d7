#pragma once
// One fenced code block of an answer: the language, the code in a monospace font, and a Copy button
// that puts exactly the code (without fences) on the clipboard.
#include <QFrame>

class QLabel;
class QToolButton;

namespace gd::ui {

class CodeBlockWidget : public QFrame {
    Q_OBJECT
public:
    explicit CodeBlockWidget(QWidget* parent = nullptr);
    void setCode(const QString& code, const QString& language);
    QString code() const { return code_; }

signals:
    void copied();

private:
    QString code_;
    QLabel* language_ = nullptr;
    QLabel* body_ = nullptr;
    QToolButton* copy_ = nullptr;
};

}  // namespace gd::ui
