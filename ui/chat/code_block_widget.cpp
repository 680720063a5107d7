#include "chat/code_block_widget.h"

#include <QClipboard>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace gd::ui {

CodeBlockWidget::CodeBlockWidget(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("codeBlock"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    auto* header = new QWidget(this);
    header->setObjectName(QStringLiteral("codeHeader"));
    auto* hl = new QHBoxLayout(header);
    hl->setContentsMargins(10, 4, 4, 4);
    language_ = new QLabel(header);
    language_->setObjectName(QStringLiteral("codeLanguage"));
    copy_ = new QToolButton(header);
    copy_->setObjectName(QStringLiteral("copyCodeButton"));
    copy_->setText(tr("Copy"));
    copy_->setAccessibleName(tr("Copy code"));
    copy_->setToolTip(tr("Copy this code to the clipboard"));
    copy_->setCursor(Qt::PointingHandCursor);
    hl->addWidget(language_);
    hl->addStretch(1);
    hl->addWidget(copy_);
    layout->addWidget(header);

    body_ = new QLabel(this);
    body_->setObjectName(QStringLiteral("codeBody"));
    body_->setTextFormat(Qt::PlainText);
    body_->setWordWrap(true);
    body_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    body_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    body_->setAccessibleName(tr("Code"));
    layout->addWidget(body_);

    connect(copy_, &QToolButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(code_);
        copy_->setText(tr("Copied"));
        QTimer::singleShot(1500, copy_, [b = copy_] { b->setText(tr("Copy")); });
        emit copied();
    });
}

void CodeBlockWidget::setCode(const QString& code, const QString& language) {
    code_ = code;
    body_->setText(code);
    language_->setText(language.isEmpty() ? tr("code") : language);
}

}  // namespace gd::ui
