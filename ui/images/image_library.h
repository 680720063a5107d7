#pragma once
// The app's images, for the widgets on the UI thread: attaching (check, copy into the data folder),
// thumbnails (cached) and renderings, all done on a small thread pool so that a 4K photo never
// stalls the event loop; answers come back as signals on the UI thread.
//
// Stored images live in <root>/images/ (see image_files.h). The root is the data folder beside the
// chat history; with no root (the history could not be opened) a temporary folder holds this
// session's images.
#include <QCache>
#include <QHash>
#include <QImage>
#include <QObject>
#include <QSet>
#include <QThreadPool>
#include <functional>
#include <memory>
#include "images/stored_image.h"

class QTemporaryDir;

namespace gd::ui {

class ImageLibrary : public QObject {
    Q_OBJECT
public:
    explicit ImageLibrary(const QString& root, QObject* parent = nullptr);
    ~ImageLibrary() override;  // waits for the jobs that run (each takes well under a second)

    QString root() const { return root_; }
    // The absolute path of a stored image ("" when the name is not one of ours).
    QString pathOf(const QString& file) const;

    // Attaching: answered by attached() or attachFailed() with the returned ticket.
    quint64 attachFile(const QString& path);
    quint64 attachImage(const QImage& image, const QString& name);

    // The thumbnail of a stored image if it is cached; otherwise a null image, and thumbnailReady()
    // follows (with a null image when the file is missing or unreadable).
    QImage thumbnail(const QString& file);

    // Renderings, answered by rendered() with the ticket: exactly what the model sees at `budget`,
    // or the image fitted into `side` pixels for a larger view.
    quint64 renderForModel(const QString& file, int budget);
    quint64 renderFitted(const QString& file, int side);

    // Deletes a stored image (the caller checked nothing refers to it any more).
    void remove(const QString& file);

signals:
    void attached(quint64 ticket, const gd::ui::StoredImage& image, const QImage& thumbnail);
    void attachFailed(quint64 ticket, const QString& message);
    void thumbnailReady(const QString& file, const QImage& thumbnail);
    void rendered(quint64 ticket, const QImage& image, const QString& error);

private:
    // Runs `job` on the pool; `deliver` then runs on the UI thread with its result.
    template <typename Result>
    void run(std::function<Result()> job, std::function<void(const Result&)> deliver);

    QString root_;
    std::unique_ptr<QTemporaryDir> temp_;
    QThreadPool pool_;
    quint64 nextTicket_ = 1;
    QCache<QString, QImage> thumbnails_;  // cost: kilobytes
    QSet<QString> pendingThumbnails_;
};

}  // namespace gd::ui
