#include "chat/message_images.h"

#include <QHBoxLayout>
#include <QToolButton>
#include "chat/image_view_dialog.h"
#include "images/image_library.h"
#include "vision/image/image_preprocess.h"

namespace gd::ui {

namespace {
constexpr int kMessageThumb = 160;  // pixels, the long side of a thumbnail in a message

QString describe(const StoredImage& image) {
    QString seen;
    try {
        const gd::ImageTargetSize s = gd::image_target_size(image.height, image.width, image.budget);
        seen = QObject::tr("sent at %1 tokens (%2×%3)").arg(s.soft_tokens()).arg(s.width).arg(s.height);
    } catch (const std::exception&) {
        seen = QObject::tr("sent at %1 tokens").arg(image.budget);
    }
    return QObject::tr("%1 · %2×%3 · %4").arg(image.name).arg(image.width).arg(image.height).arg(seen);
}
}  // namespace

MessageImages::MessageImages(ImageLibrary& library, const QList<StoredImage>& images, QWidget* parent)
    : QWidget(parent), library_(library), images_(images) {
    setObjectName(QStringLiteral("messageImages"));
    auto* row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(6);
    for (qsizetype i = 0; i < images_.size(); ++i) {
        auto* b = new QToolButton(this);
        b->setObjectName(QStringLiteral("messageImage"));
        b->setAccessibleName(tr("Image %1").arg(images_[i].name));
        b->setToolTip(describe(images_[i]));
        b->setAutoRaise(true);
        b->setCursor(Qt::PointingHandCursor);
        b->setIconSize(QSize(kMessageThumb, kMessageThumb));
        b->setText(tr("loading…"));
        b->setMinimumSize(48, 48);
        row->addWidget(b);
        buttons_.append(b);
        connect(b, &QToolButton::clicked, this, [this, i] { open(i); });
    }
    row->addStretch(1);
    connect(&library_, &ImageLibrary::thumbnailReady, this, [this](const QString& file, const QImage& thumbnail) {
        for (qsizetype i = 0; i < images_.size(); ++i)
            if (images_[i].file == file) showThumbnail(i, thumbnail);
    });
    for (qsizetype i = 0; i < images_.size(); ++i) {
        const QImage cached = library_.thumbnail(images_[i].file);
        if (!cached.isNull()) showThumbnail(i, cached);
    }
}

void MessageImages::showThumbnail(qsizetype index, const QImage& thumbnail) {
    QToolButton* b = buttons_[index];
    if (thumbnail.isNull()) {
        b->setIcon({});
        b->setText(tr("image not found"));
        b->setProperty("missing", true);
        b->setAccessibleName(tr("Image %1 (not found)").arg(images_[index].name));
        b->setToolTip(tr("%1 is no longer in the app's image folder.").arg(images_[index].name));
        return;
    }
    b->setText({});
    b->setProperty("missing", false);
    const QSize fitted = thumbnail.size().scaled(kMessageThumb, kMessageThumb, Qt::KeepAspectRatio);
    b->setIconSize(fitted);
    b->setIcon(QIcon(QPixmap::fromImage(thumbnail)));
}

void MessageImages::open(qsizetype index) {
    if (buttons_[index]->property("missing").toBool()) return;
    auto* dialog = new ImageViewDialog(library_, images_[index].name, window());
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->showOriginal(images_[index].file, describe(images_[index]));
    dialog->open();
}

}  // namespace gd::ui
