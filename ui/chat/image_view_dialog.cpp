#include "chat/image_view_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>
#include "images/image_library.h"

namespace gd::ui {

namespace {
constexpr int kLargeSide = 1600;  // the original is shown at most this large
}

ImageViewDialog::ImageViewDialog(ImageLibrary& library, const QString& title, QWidget* parent)
    : QDialog(parent), library_(library) {
    setObjectName(QStringLiteral("imageViewDialog"));
    setWindowTitle(title);
    auto* col = new QVBoxLayout(this);
    caption_ = new QLabel(this);
    caption_->setObjectName(QStringLiteral("imageViewCaption"));
    caption_->setWordWrap(true);
    col->addWidget(caption_);
    scroll_ = new QScrollArea(this);
    scroll_->setObjectName(QStringLiteral("imageViewScroll"));
    scroll_->setAccessibleName(tr("Image"));
    scroll_->setAlignment(Qt::AlignCenter);
    picture_ = new QLabel(scroll_);
    picture_->setObjectName(QStringLiteral("imageViewPicture"));
    picture_->setAlignment(Qt::AlignCenter);
    picture_->setText(tr("Preparing the image…"));
    scroll_->setWidget(picture_);
    scroll_->setWidgetResizable(true);
    col->addWidget(scroll_, 1);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    buttons->button(QDialogButtonBox::Close)->setAccessibleName(tr("Close the image"));
    col->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(&library_, &ImageLibrary::rendered, this, &ImageViewDialog::onRendered);
    resize(720, 640);
}

void ImageViewDialog::showForModel(const QString& file, int budget, const QString& caption) {
    caption_->setText(caption);
    ticket_ = library_.renderForModel(file, budget);
}

void ImageViewDialog::showOriginal(const QString& file, const QString& caption) {
    caption_->setText(caption);
    ticket_ = library_.renderFitted(file, kLargeSide);
}

void ImageViewDialog::onRendered(quint64 ticket, const QImage& image, const QString& error) {
    if (ticket != ticket_) return;
    if (image.isNull()) {
        picture_->setText(tr("The image could not be shown: %1").arg(error));
        return;
    }
    image_ = image;
    picture_->setPixmap(QPixmap::fromImage(image));  // 1:1: the point is to see the pixels
    picture_->setAccessibleName(caption_->text());
    const QSize fits = image.size().boundedTo(QSize(1200, 860)) + QSize(60, 120);
    resize(fits.expandedTo(QSize(360, 240)));
    emit imageShown();
}

}  // namespace gd::ui
