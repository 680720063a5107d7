#pragma once
// The copies of attached images, kept in <root>/images/ under the SHA-256 of their bytes: attaching
// the same picture twice stores it once, and a message keeps its image even when the original file
// is moved or deleted. Plain functions on paths, safe to call from any thread.
#include <QByteArray>
#include <QString>

namespace gd::ui {

// "png", "jpg", "webp", "bmp", "tif", "gif" from the first bytes; "img" for anything else (the
// decoder, not the name, decides what the bytes are).
QString imageExtension(const QByteArray& bytes);

// Writes `bytes` to <root>/images/<sha256>.<ext> unless that file is already there, and returns
// the relative name ("images/<sha256>.<ext>"), or "" with *error set.
QString storeImageBytes(const QString& root, const QByteArray& bytes, QString* error);

// The absolute path of a stored image, or "" when `file` is not a name storeImageBytes makes (a
// damaged or edited history must not point the app at other files).
QString storedImagePath(const QString& root, const QString& file);

}  // namespace gd::ui
