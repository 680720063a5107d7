#include "images/image_library.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include "images/image_files.h"
#include "images/image_jobs.h"

namespace gd::ui {

ImageLibrary::ImageLibrary(const QString& root, QObject* parent) : QObject(parent), root_(root) {
    qRegisterMetaType<StoredImage>();
    if (root_.isEmpty()) {
        temp_ = std::make_unique<QTemporaryDir>(QDir::temp().filePath(QStringLiteral("gemmadesk-images-XXXXXX")));
        root_ = temp_->isValid() ? temp_->path() : QDir::tempPath();
    }
    // Two at a time: a batch of dropped photos neither piles up decoded pixels in memory nor takes
    // every core from the UI thread and the engine.
    pool_.setMaxThreadCount(2);
    pool_.setObjectName(QStringLiteral("images"));
    thumbnails_.setMaxCost(48 * 1024);  // ~48 MB of thumbnails
}

ImageLibrary::~ImageLibrary() {
    // Jobs deliver through queued calls on this object: none may run once it is gone. (Calls already
    // queued are dropped by QObject's destructor.)
    pool_.clear();
    pool_.waitForDone();
}

template <typename Result>
void ImageLibrary::run(std::function<Result()> job, std::function<void(const Result&)> deliver) {
    pool_.start([this, job = std::move(job), deliver = std::move(deliver)] {
        Result result = job();
        QMetaObject::invokeMethod(this, [deliver, result = std::move(result)] { deliver(result); }, Qt::QueuedConnection);
    });
}

QString ImageLibrary::pathOf(const QString& file) const { return storedImagePath(root_, file); }

quint64 ImageLibrary::attachFile(const QString& path) {
    const quint64 ticket = nextTicket_++;
    run<AttachResult>([root = root_, path] { return gd::ui::attachFile(root, path); },
                      [this, ticket](const AttachResult& r) {
                          if (!r.error.isEmpty()) {
                              emit attachFailed(ticket, r.error);
                              return;
                          }
                          thumbnails_.insert(r.image.file, new QImage(r.thumbnail), int(r.thumbnail.sizeInBytes() / 1024) + 1);
                          emit attached(ticket, r.image, r.thumbnail);
                      });
    return ticket;
}

quint64 ImageLibrary::attachImage(const QImage& image, const QString& name) {
    const quint64 ticket = nextTicket_++;
    run<AttachResult>([root = root_, image, name] { return gd::ui::attachImage(root, image, name); },
                      [this, ticket](const AttachResult& r) {
                          if (!r.error.isEmpty()) {
                              emit attachFailed(ticket, r.error);
                              return;
                          }
                          thumbnails_.insert(r.image.file, new QImage(r.thumbnail), int(r.thumbnail.sizeInBytes() / 1024) + 1);
                          emit attached(ticket, r.image, r.thumbnail);
                      });
    return ticket;
}

QImage ImageLibrary::thumbnail(const QString& file) {
    if (const QImage* cached = thumbnails_.object(file)) return *cached;
    if (pendingThumbnails_.contains(file)) return {};
    const QString path = pathOf(file);
    if (path.isEmpty() || !QFile::exists(path)) {
        // Answered later all the same, so callers have a single path for "not there".
        QMetaObject::invokeMethod(this, [this, file] { emit thumbnailReady(file, QImage()); }, Qt::QueuedConnection);
        return {};
    }
    pendingThumbnails_.insert(file);
    run<RenderResult>([path] { return gd::ui::renderFitted(path, kThumbnailSide); },
                      [this, file](const RenderResult& r) {
                          pendingThumbnails_.remove(file);
                          if (!r.image.isNull())
                              thumbnails_.insert(file, new QImage(r.image), int(r.image.sizeInBytes() / 1024) + 1);
                          emit thumbnailReady(file, r.image);
                      });
    return {};
}

quint64 ImageLibrary::renderForModel(const QString& file, int budget) {
    const quint64 ticket = nextTicket_++;
    run<RenderResult>([path = pathOf(file), budget] { return gd::ui::renderForModel(path, budget); },
                      [this, ticket](const RenderResult& r) { emit rendered(ticket, r.image, r.error); });
    return ticket;
}

quint64 ImageLibrary::renderFitted(const QString& file, int side) {
    const quint64 ticket = nextTicket_++;
    run<RenderResult>([path = pathOf(file), side] { return gd::ui::renderFitted(path, side); },
                      [this, ticket](const RenderResult& r) { emit rendered(ticket, r.image, r.error); });
    return ticket;
}

void ImageLibrary::remove(const QString& file) {
    const QString path = pathOf(file);
    if (path.isEmpty()) return;
    thumbnails_.remove(file);
    QFile::remove(path);
}

}  // namespace gd::ui
