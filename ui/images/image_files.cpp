#include "images/image_files.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QObject>
#include <QSaveFile>

namespace gd::ui {

QString imageExtension(const QByteArray& b) {
    if (b.startsWith("\x89PNG\r\n\x1a\n")) return QStringLiteral("png");
    if (b.startsWith("\xff\xd8\xff")) return QStringLiteral("jpg");
    if (b.startsWith("GIF87a") || b.startsWith("GIF89a")) return QStringLiteral("gif");
    if (b.startsWith("BM")) return QStringLiteral("bmp");
    if (b.startsWith("II*") || b.startsWith("MM")) return QStringLiteral("tif");
    if (b.size() >= 12 && b.startsWith("RIFF") && b.mid(8, 4) == "WEBP") return QStringLiteral("webp");
    return QStringLiteral("img");
}

QString storeImageBytes(const QString& root, const QByteArray& bytes, QString* error) {
    const QString hash = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    const QString file = QStringLiteral("images/%1.%2").arg(hash, imageExtension(bytes));
    const QString path = QDir(root).filePath(file);
    // Same name, same bytes: a file of the right size is this image already.
    if (QFileInfo(path).size() == bytes.size() && QFileInfo(path).isFile()) return file;
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        if (error) *error = QObject::tr("could not create the folder %1").arg(QFileInfo(path).absolutePath());
        return {};
    }
    // QSaveFile writes beside and renames: a crash never leaves a half image under the final name.
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit()) {
        if (error) *error = QObject::tr("could not save a copy in %1: %2").arg(QDir(root).filePath(QStringLiteral("images")), out.errorString());
        return {};
    }
    return file;
}

QString storedImagePath(const QString& root, const QString& file) {
    static const QRegularExpression valid(QStringLiteral("^images/[0-9a-f]{64}\\.[a-z]{3,4}$"));
    if (root.isEmpty() || !valid.match(file).hasMatch()) return {};
    return QDir(root).filePath(file);
}

}  // namespace gd::ui
