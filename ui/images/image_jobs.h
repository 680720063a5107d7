#pragma once
// The slow parts of attaching and showing images, run on a pool thread (ImageLibrary queues them):
// reading and checking a file with the engine's own decoder (so what attaches is what the model can
// read, and a corrupt file or a decompression bomb is refused with bounded memory), storing its
// copy, thumbnails, and the resized image the model will see. Each returns its result or an error
// in plain words; nothing here touches widgets.
#include <QImage>
#include <QString>
#include "images/stored_image.h"

namespace gd {
struct RgbImage;
}

namespace gd::ui {

struct AttachResult {
    StoredImage image;   // file, name and size; the caller sets the budget
    QImage thumbnail;    // at most kThumbnailSide on its long side
    QString error;       // "" on success
};

struct RenderResult {
    QImage image;
    QString error;
};

inline constexpr int kThumbnailSide = 256;

// Checks `path` is an image the model can take (content, not extension), stores a copy under root.
AttachResult attachFile(const QString& root, const QString& path);
// The same for an image from the clipboard, stored as PNG.
AttachResult attachImage(const QString& root, const QImage& image, const QString& name);

// A stored image at most `side` pixels on its long side.
RenderResult renderFitted(const QString& path, int side);
// Exactly what the model sees at `budget` soft tokens: the reference resize of the decoded image.
RenderResult renderForModel(const QString& path, int budget);

QImage toQImage(const gd::RgbImage& image);  // a deep copy

}  // namespace gd::ui
