#include "chat/message_widget.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include "chat/code_block_widget.h"
#include "chat/message_audio.h"
#include "chat/message_images.h"

namespace gd::ui {

namespace {

QLabel* makeProseLabel(QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setObjectName(QStringLiteral("prose"));
    label->setTextFormat(Qt::MarkdownText);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextBrowserInteraction);
    label->setOpenExternalLinks(false);  // the app opens nothing on the network by itself
    label->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
    return label;
}

QToolButton* makeAction(QWidget* parent, const char* objectName, const QString& text, const QString& accessible) {
    auto* b = new QToolButton(parent);
    b->setObjectName(QString::fromLatin1(objectName));
    b->setText(text);
    b->setAccessibleName(accessible);
    b->setToolTip(accessible);
    b->setAutoRaise(true);
    b->setCursor(Qt::PointingHandCursor);
    return b;
}

}  // namespace

MessageWidget::MessageWidget(qint64 messageId, const QString& role, QWidget* parent)
    : QFrame(parent), messageId_(messageId), role_(role) {
    setObjectName(QStringLiteral("message"));
    const bool user = role == QLatin1String("user");
    auto* outer = new QHBoxLayout(this);
    outer->setContentsMargins(0, 4, 0, 4);
    bubble_ = new QFrame(this);
    bubble_->setObjectName(user ? QStringLiteral("userBubble") : QStringLiteral("answerBubble"));
    bubble_->setAccessibleName(user ? tr("Your message") : tr("Answer"));
    if (user) outer->addStretch(1);
    outer->addWidget(bubble_, user ? 0 : 1);
    if (user) bubble_->setMaximumWidth(720);

    auto* col = new QVBoxLayout(bubble_);
    col->setContentsMargins(14, 8, 14, 8);
    col->setSpacing(6);

    auto* head = new QHBoxLayout;
    author_ = new QLabel(user ? tr("You") : tr("Gemma"), bubble_);
    author_->setObjectName(QStringLiteral("author"));
    status_ = new QLabel(bubble_);
    status_->setObjectName(QStringLiteral("messageStatus"));
    status_->hide();
    head->addWidget(author_);
    head->addWidget(status_);
    head->addStretch(1);
    col->addLayout(head);

    thinkingToggle_ = new QToolButton(bubble_);
    thinkingToggle_->setObjectName(QStringLiteral("thinkingToggle"));
    thinkingToggle_->setCheckable(true);
    thinkingToggle_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    thinkingToggle_->setArrowType(Qt::RightArrow);
    thinkingToggle_->setText(tr("Thinking"));
    thinkingToggle_->setAccessibleName(tr("Show or hide the model's thinking"));
    thinkingToggle_->setAutoRaise(true);
    thinkingToggle_->hide();
    thinkingText_ = new QLabel(bubble_);
    thinkingText_->setObjectName(QStringLiteral("thinkingText"));
    thinkingText_->setTextFormat(Qt::PlainText);
    thinkingText_->setWordWrap(true);
    thinkingText_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    thinkingText_->setAccessibleName(tr("The model's thinking"));
    thinkingText_->hide();
    col->addWidget(thinkingToggle_, 0, Qt::AlignLeft);
    col->addWidget(thinkingText_);
    connect(thinkingToggle_, &QToolButton::toggled, this, &MessageWidget::setThinkingExpanded);

    imagesSlot_ = new QVBoxLayout;
    col->addLayout(imagesSlot_);
    body_ = new QVBoxLayout;
    body_->setSpacing(8);
    col->addLayout(body_);

    details_ = new QLabel(bubble_);
    details_->setObjectName(QStringLiteral("messageDetails"));
    details_->hide();
    col->addWidget(details_);

    auto* actions = new QHBoxLayout;
    actions->setSpacing(2);
    copy_ = makeAction(bubble_, "copyMessageButton", tr("Copy"), tr("Copy message"));
    edit_ = makeAction(bubble_, "editButton", tr("Edit"), tr("Edit and resend"));
    regenerate_ = makeAction(bubble_, "regenerateButton", tr("Regenerate"), tr("Regenerate answer"));
    readAloud_ = makeAction(bubble_, "readAloudButton", tr("Read aloud"), tr("Read the answer aloud"));
    readAloud_->hide();  // answers with text only
    actions->addWidget(copy_);
    actions->addWidget(readAloud_);
    actions->addWidget(edit_);
    actions->addWidget(regenerate_);
    actions->addStretch(1);
    col->addLayout(actions);
    setActions(false, false);

    connect(copy_, &QToolButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(text_); });
    connect(edit_, &QToolButton::clicked, this, [this] { emit editRequested(messageId_); });
    connect(regenerate_, &QToolButton::clicked, this, [this] { emit regenerateRequested(messageId_); });
    connect(readAloud_, &QToolButton::clicked, this, [this] { emit readAloudRequested(messageId_); });
}

void MessageWidget::setText(const QString& markdown) {
    if (markdown == text_ && !segmentWidgets_.isEmpty()) return;
    text_ = markdown;
    render();
}

void MessageWidget::setImages(ImageLibrary& library, const QList<StoredImage>& images) {
    if (images_) {
        images_->hide();
        images_->deleteLater();
        images_ = nullptr;
    }
    if (images.isEmpty()) return;
    images_ = new MessageImages(library, images, bubble_);
    imagesSlot_->addWidget(images_);
}

QList<StoredImage> MessageWidget::images() const { return images_ ? images_->images() : QList<StoredImage>{}; }

void MessageWidget::setAudio(AudioLibrary& library, AudioPlayer& player, const QList<StoredAudio>& clips) {
    if (audio_) {
        audio_->hide();
        audio_->deleteLater();
        audio_ = nullptr;
    }
    if (clips.isEmpty()) return;
    audio_ = new MessageAudio(library, player, clips, bubble_);
    imagesSlot_->addWidget(audio_);  // under the images, above the text: the order the model gets them
}

QList<StoredAudio> MessageWidget::audio() const { return audio_ ? audio_->clips() : QList<StoredAudio>{}; }

void MessageWidget::setSpeaking(bool speaking) {
    readAloud_->setText(speaking ? tr("Stop reading") : tr("Read aloud"));
    readAloud_->setAccessibleName(speaking ? tr("Stop reading the answer aloud") : tr("Read the answer aloud"));
    readAloud_->setToolTip(readAloud_->accessibleName());
}

void MessageWidget::setThinking(const QString& thinking) {
    thinking_ = thinking;
    thinkingToggle_->setVisible(!thinking_.isEmpty());
    thinkingText_->setText(thinking_);
}

void MessageWidget::appendDelta(const QString& answer, const QString& thinking) {
    if (!thinking.isEmpty()) setThinking(thinking_ + thinking);
    if (!answer.isEmpty()) setText(text_ + answer);
}

void MessageWidget::setStatus(const QString& status) {
    status_->setText(status);
    status_->setVisible(!status.isEmpty());
}

void MessageWidget::setDetails(const QString& details) {
    details_->setText(details);
    details_->setVisible(!details.isEmpty());
}

void MessageWidget::setActions(bool canEdit, bool canRegenerate) {
    edit_->setVisible(canEdit);
    regenerate_->setVisible(canRegenerate);
}

bool MessageWidget::thinkingExpanded() const { return thinkingToggle_->isChecked(); }

void MessageWidget::setThinkingExpanded(bool expanded) {
    if (thinkingToggle_->isChecked() != expanded) thinkingToggle_->setChecked(expanded);
    thinkingToggle_->setArrowType(expanded ? Qt::DownArrow : Qt::RightArrow);
    thinkingText_->setVisible(expanded && !thinking_.isEmpty());
}

void MessageWidget::render() {
    // The user's own text is shown as typed (a message of images alone has none); answers are markdown.
    QList<MarkdownSegment> next;
    if (role_ != QLatin1String("user")) next = splitMarkdown(text_);
    else if (!text_.isEmpty()) next.append({MarkdownSegment::Kind::Prose, text_, {}, true});

    // Keep the widgets of the unchanged leading segments; update or rebuild from the first change.
    qsizetype i = 0;
    while (i < next.size() && i < segments_.size() && next[i] == segments_[i]) ++i;
    for (qsizetype j = i; j < next.size(); ++j) {
        const MarkdownSegment& s = next[j];
        QWidget* w = j < segmentWidgets_.size() ? segmentWidgets_[j] : nullptr;
        const bool isCode = s.kind == MarkdownSegment::Kind::Code;
        if (w && (qobject_cast<CodeBlockWidget*>(w) != nullptr) != isCode) {
            // A different kind now sits here: drop this widget and all after it.
            for (qsizetype k = j; k < segmentWidgets_.size(); ++k) { segmentWidgets_[k]->hide(); segmentWidgets_[k]->deleteLater(); }
            segmentWidgets_.resize(j);
            w = nullptr;
        }
        if (!w) {
            if (isCode) w = new CodeBlockWidget(bubble_);
            else w = makeProseLabel(bubble_);
            body_->addWidget(w);
            segmentWidgets_.append(w);
        }
        if (auto* code = qobject_cast<CodeBlockWidget*>(w)) {
            code->setCode(s.text, s.language);
        } else {
            auto* label = static_cast<QLabel*>(w);
            const bool user = role_ == QLatin1String("user");
            label->setTextFormat(user ? Qt::PlainText : Qt::MarkdownText);
            label->setText(s.text);
            if (user) {
                // A word-wrapped label asks for little width: size the bubble to the text's longest
                // line, up to the bubble's maximum.
                int widest = 0;
                for (const QString& line : s.text.split(u'\n'))
                    widest = std::max(widest, label->fontMetrics().horizontalAdvance(line));
                label->setMinimumWidth(std::min(widest + 16, 600));
            }
        }
    }
    for (qsizetype k = next.size(); k < segmentWidgets_.size(); ++k) { segmentWidgets_[k]->hide(); segmentWidgets_[k]->deleteLater(); }
    if (segmentWidgets_.size() > next.size()) segmentWidgets_.resize(next.size());
    segments_ = next;
    readAloud_->setVisible(role_ != QLatin1String("user") && !text_.trimmed().isEmpty());
}

}  // namespace gd::ui
