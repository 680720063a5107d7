#include "chat/image_attachment_card.h"

#include <QGridLayout>
#include <QLabel>
#include <QSlider>
#include <QToolButton>
#include <cstdlib>
#include <iterator>
#include "vision/image/image_preprocess.h"

namespace gd::ui {

namespace {
constexpr int kCardThumb = 72;  // pixels, the thumbnail inside a card
constexpr int kBudgetCount = int(std::size(gd::kImageBudgets));
}  // namespace

int budgetIndex(int budget) {
    int best = 0;
    for (int i = 1; i < kBudgetCount; ++i)
        if (std::abs(gd::kImageBudgets[i] - budget) < std::abs(gd::kImageBudgets[best] - budget)) best = i;
    return best;
}

ImageAttachmentCard::ImageAttachmentCard(const QString& name, int budget, QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("imageCard"));
    setAccessibleName(tr("Attached image %1").arg(name));
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(6, 6, 6, 6);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(2);

    thumb_ = new QToolButton(this);
    thumb_->setObjectName(QStringLiteral("imageCardThumbnail"));
    thumb_->setAccessibleName(tr("Show %1 as the model will see it").arg(name));
    thumb_->setToolTip(tr("Reading %1…").arg(name));
    thumb_->setFixedSize(kCardThumb + 6, kCardThumb + 6);
    thumb_->setIconSize(QSize(kCardThumb, kCardThumb));
    thumb_->setAutoRaise(true);
    thumb_->setCursor(Qt::PointingHandCursor);
    thumb_->setText(QStringLiteral("…"));
    grid->addWidget(thumb_, 0, 0, 3, 1);

    name_ = new QLabel(this);
    name_->setObjectName(QStringLiteral("imageCardName"));
    name_->setText(fontMetrics().elidedText(name, Qt::ElideMiddle, 150));
    name_->setToolTip(name);
    grid->addWidget(name_, 0, 1);

    remove_ = new QToolButton(this);
    remove_->setObjectName(QStringLiteral("removeImageButton"));
    remove_->setText(QStringLiteral("×"));
    remove_->setAccessibleName(tr("Remove %1").arg(name));
    remove_->setToolTip(tr("Remove this image"));
    remove_->setAutoRaise(true);
    grid->addWidget(remove_, 0, 2, Qt::AlignRight | Qt::AlignTop);

    slider_ = new QSlider(Qt::Horizontal, this);
    slider_->setObjectName(QStringLiteral("imageBudgetSlider"));
    slider_->setAccessibleName(tr("Image detail for %1").arg(name));
    slider_->setToolTip(tr("More detail: the model sees a larger image, and it costs more tokens and time."));
    slider_->setRange(0, kBudgetCount - 1);
    slider_->setPageStep(1);
    slider_->setTickPosition(QSlider::TicksBelow);
    slider_->setTickInterval(1);
    slider_->setMinimumWidth(150);
    slider_->setEnabled(false);
    grid->addWidget(slider_, 1, 1, 1, 2);

    detail_ = new QLabel(this);
    detail_->setObjectName(QStringLiteral("imageBudgetLabel"));
    detail_->setText(tr("reading…"));
    // Room for the longest detail, so the card does not change width as the slider moves.
    detail_->setMinimumWidth(detail_->fontMetrics().horizontalAdvance(tr("%1 tokens · %2×%3").arg(1120).arg(10080).arg(10080)));
    grid->addWidget(detail_, 2, 1, 1, 2);

    setBudget(budget);
    connect(slider_, &QSlider::valueChanged, this, &ImageAttachmentCard::updateDetail);
    connect(remove_, &QToolButton::clicked, this, &ImageAttachmentCard::removeRequested);
    connect(thumb_, &QToolButton::clicked, this, [this] {
        if (isReady()) emit previewRequested();
    });
}

void ImageAttachmentCard::setImage(const StoredImage& image) {
    image_ = image;
    slider_->setEnabled(true);
    updateDetail();
}

void ImageAttachmentCard::setThumbnail(const QImage& thumbnail) {
    if (thumbnail.isNull()) return;
    thumb_->setText({});
    thumb_->setIcon(QIcon(QPixmap::fromImage(thumbnail)));
}

StoredImage ImageAttachmentCard::image() const {
    StoredImage out = image_;
    out.budget = budget();
    return out;
}

int ImageAttachmentCard::budget() const { return int(gd::kImageBudgets[slider_->value()]); }

void ImageAttachmentCard::setBudget(int budget) {
    slider_->setValue(budgetIndex(budget));
    updateDetail();
}

QString ImageAttachmentCard::detailText() const {
    if (!isReady()) return {};
    try {
        const gd::ImageTargetSize size = gd::image_target_size(image_.height, image_.width, budget());
        return tr("%1 tokens · %2×%3").arg(size.soft_tokens()).arg(size.width).arg(size.height);
    } catch (const std::exception& e) {
        return QString::fromStdString(e.what());  // (attaching checked every budget: not expected)
    }
}

void ImageAttachmentCard::updateDetail() {
    if (!isReady()) return;
    const QString detail = detailText();
    detail_->setText(detail);
    slider_->setAccessibleDescription(detail);
    thumb_->setToolTip(tr("%1 · %2×%3 — the model sees it at %4. Click for a preview.")
                           .arg(image_.name).arg(image_.width).arg(image_.height).arg(detail));
}

}  // namespace gd::ui
