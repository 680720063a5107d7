#include "chat/composer.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextBlock>
#include <QTextLayout>
#include <QToolButton>
#include <QVBoxLayout>

namespace gd::ui {

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

    attachments_ = new QWidget(this);
    attachments_->setObjectName(QStringLiteral("attachments"));
    attachments_->setAccessibleName(tr("Attachments"));
    new QHBoxLayout(attachments_);
    attachments_->hide();  // shown when an image or a recording is attached
    col->addWidget(attachments_);

    auto* box = new QFrame(this);
    box->setObjectName(QStringLiteral("inputBox"));
    auto* row = new QHBoxLayout(box);
    row->setContentsMargins(10, 6, 6, 6);
    input_ = new QPlainTextEdit(box);
    input_->setObjectName(QStringLiteral("messageInput"));
    input_->setAccessibleName(tr("Message"));
    input_->setPlaceholderText(tr("Ask anything… (Enter sends, Shift+Enter for a new line)"));
    input_->setTabChangesFocus(true);
    input_->setFrameShape(QFrame::NoFrame);
    input_->installEventFilter(this);
    row->addWidget(input_, 1);
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

    connect(send_, &QPushButton::clicked, this, &Composer::trySend);
    connect(stop_, &QPushButton::clicked, this, &Composer::stopRequested);
    connect(input_, &QPlainTextEdit::textChanged, this, &Composer::adjustHeight);
    adjustHeight();
}

QString Composer::text() const { return input_->toPlainText(); }
void Composer::setText(const QString& text) { input_->setPlainText(text); }
void Composer::clear() { input_->clear(); }

void Composer::setBusy(bool generating) {
    send_->setVisible(!generating);
    stop_->setVisible(generating);
}

void Composer::setSendEnabled(bool enabled, const QString& why) {
    sendEnabled_ = enabled;
    send_->setEnabled(enabled);
    hint_->setText(why);
    hint_->setVisible(!enabled && !why.isEmpty());
}

void Composer::beginEdit(qint64 messageId, const QString& text) {
    editing_ = messageId;
    setText(text);
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

void Composer::trySend() {
    const QString text = input_->toPlainText().trimmed();
    if (text.isEmpty() || !sendEnabled_ || !send_->isVisible()) return;
    emit sendRequested(text);
}

bool Composer::eventFilter(QObject* watched, QEvent* event) {
    if (watched == input_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        const bool enter = key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter;
        if (enter && !(key->modifiers() & Qt::ShiftModifier)) {
            trySend();
            return true;
        }
        if (key->key() == Qt::Key_Escape && editing_ != 0) {
            cancelEdit();
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
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
