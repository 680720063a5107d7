#include "chat/chat_view.h"

#include <QLabel>
#include <QScrollBar>
#include <QTimer>
#include <QVBoxLayout>
#include "chat/message_widget.h"

namespace gd::ui {

ChatView::ChatView(QWidget* parent) : QScrollArea(parent) {
    setObjectName(QStringLiteral("chatView"));
    setAccessibleName(tr("Conversation"));
    setWidgetResizable(true);
    setFrameShape(QFrame::NoFrame);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);

    content_ = new QWidget;
    content_->setObjectName(QStringLiteral("chatContent"));
    auto* outer = new QVBoxLayout(content_);
    outer->setContentsMargins(24, 16, 24, 16);
    welcome_ = new QWidget(content_);
    welcome_->setObjectName(QStringLiteral("welcome"));
    auto* wl = new QVBoxLayout(welcome_);
    welcomeTitle_ = new QLabel(welcome_);
    welcomeTitle_->setObjectName(QStringLiteral("welcomeTitle"));
    welcomeTitle_->setAlignment(Qt::AlignCenter);
    welcomeText_ = new QLabel(welcome_);
    welcomeText_->setObjectName(QStringLiteral("welcomeText"));
    welcomeText_->setAlignment(Qt::AlignCenter);
    welcomeText_->setWordWrap(true);
    welcomeText_->setTextFormat(Qt::MarkdownText);
    wl->addStretch(1);
    wl->addWidget(welcomeTitle_);
    wl->addWidget(welcomeText_);
    wl->addStretch(2);
    outer->addWidget(welcome_, 1);
    list_ = new QVBoxLayout;
    list_->setSpacing(6);
    outer->addLayout(list_);
    outer->addStretch(0);
    setWidget(content_);

    // Follow the bottom while the user is there; scrolling up to read stops the following.
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, [this](int v) {
        following_ = v >= verticalScrollBar()->maximum() - 24;
    });
    connect(verticalScrollBar(), &QScrollBar::rangeChanged, this, [this](int, int max) {
        if (following_) verticalScrollBar()->setValue(max);
    });
}

void ChatView::clear() {
    for (MessageWidget* m : messages()) {
        list_->removeWidget(m);
        m->hide();  // deleted later: hidden now so it is not painted meanwhile
        m->deleteLater();
    }
    welcome_->show();
    following_ = true;
}

MessageWidget* ChatView::appendMessage(qint64 messageId, const QString& role, const QString& text,
                                       const QString& thinking) {
    auto* m = new MessageWidget(messageId, role, content_);
    m->setThinking(thinking);
    m->setText(text);
    list_->addWidget(m);
    welcome_->hide();
    connect(m, &MessageWidget::editRequested, this, &ChatView::editRequested);
    connect(m, &MessageWidget::regenerateRequested, this, &ChatView::regenerateRequested);
    connect(m, &MessageWidget::readAloudRequested, this, &ChatView::readAloudRequested);
    following_ = true;
    return m;
}

QList<MessageWidget*> ChatView::messages() const {
    QList<MessageWidget*> out;
    for (int i = 0; i < list_->count(); ++i)
        if (auto* m = qobject_cast<MessageWidget*>(list_->itemAt(i)->widget())) out.append(m);
    return out;
}

MessageWidget* ChatView::findMessage(qint64 messageId) const {
    for (MessageWidget* m : messages())
        if (m->messageId() == messageId) return m;
    return nullptr;
}

MessageWidget* ChatView::lastMessage() const {
    const QList<MessageWidget*> all = messages();
    return all.isEmpty() ? nullptr : all.back();
}

void ChatView::updateActions(bool busy) {
    const QList<MessageWidget*> all = messages();
    for (qsizetype i = 0; i < all.size(); ++i) {
        const bool user = all[i]->role() == QLatin1String("user");
        const bool last = i == all.size() - 1;
        all[i]->setActions(user && !busy, !user && last && !busy);
    }
}

void ChatView::setWelcome(const QString& title, const QString& text) {
    welcomeTitle_->setText(title);
    welcomeText_->setText(text);
}

void ChatView::scrollToBottomIfFollowing() {
    if (following_) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

}  // namespace gd::ui
