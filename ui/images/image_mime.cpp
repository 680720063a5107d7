#include "images/image_mime.h"

#include <QDropEvent>
#include <QMimeData>
#include <QUrl>
#include <QWidget>

namespace gd::ui {

namespace {
QStringList localFiles(const QMimeData* mime) {
    QStringList files;
    if (!mime || !mime->hasUrls()) return files;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile()) files.append(url.toLocalFile());
    return files;
}
// Office suites put a picture of copied text on the clipboard beside the text itself: text wins, so
// pasting a paragraph never attaches a screenshot of it.
bool offersPicture(const QMimeData* mime) {
    return mime && mime->hasImage() && !(mime->hasText() && !mime->text().trimmed().isEmpty());
}
}  // namespace

OfferedImages offeredImages(const QMimeData* mime) {
    OfferedImages offered;
    offered.files = localFiles(mime);
    if (offered.files.isEmpty() && offersPicture(mime)) offered.image = qvariant_cast<QImage>(mime->imageData());
    return offered;
}

bool offersImages(const QMimeData* mime) { return mime && (!localFiles(mime).isEmpty() || offersPicture(mime)); }

ImageDropFilter::ImageDropFilter(QWidget* target, Take take) : QObject(target), take_(std::move(take)) {
    target->setAcceptDrops(true);
    target->installEventFilter(this);
}

bool ImageDropFilter::eventFilter(QObject* watched, QEvent* event) {
    switch (event->type()) {
    case QEvent::DragEnter:
    case QEvent::DragMove: {
        auto* drag = static_cast<QDropEvent*>(event);
        if (!offersImages(drag->mimeData())) return false;
        drag->setDropAction(Qt::CopyAction);  // the original stays where it is: we keep a copy
        drag->accept();
        return true;
    }
    case QEvent::Drop: {
        auto* drop = static_cast<QDropEvent*>(event);
        const OfferedImages offered = offeredImages(drop->mimeData());
        if (!offered.any()) return false;
        drop->setDropAction(Qt::CopyAction);
        drop->accept();
        take_(offered);
        return true;
    }
    default:
        return QObject::eventFilter(watched, event);
    }
}

}  // namespace gd::ui
