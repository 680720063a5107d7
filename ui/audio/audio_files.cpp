#include "audio/audio_files.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QObject>
#include <QRegularExpression>
#include <QSaveFile>

namespace gd::ui {

QString audioExtension(const QByteArray& b, const QString& fallback) {
    if (b.size() >= 12 && b.startsWith("RIFF") && b.mid(8, 4) == "WAVE") return QStringLiteral("wav");
    if (b.startsWith("fLaC")) return QStringLiteral("flac");
    if (b.startsWith("OggS")) return b.left(64).contains("OpusHead") ? QStringLiteral("opus") : QStringLiteral("ogg");
    if (b.startsWith("\x1a\x45\xdf\xa3")) return QStringLiteral("webm");
    if (b.size() >= 8 && b.mid(4, 4) == "ftyp") return QStringLiteral("m4a");
    if (b.startsWith("ID3") || (b.size() >= 2 && quint8(b[0]) == 0xff && (quint8(b[1]) & 0xe0) == 0xe0))
        return QStringLiteral("mp3");
    static const QRegularExpression plain(QStringLiteral("^[a-z0-9]{2,4}$"));
    const QString f = fallback.toLower();
    return plain.match(f).hasMatch() ? f : QStringLiteral("audio");
}

QString storeAudioBytes(const QString& root, const QByteArray& bytes, const QString& ext, QString* error) {
    const QString hash = QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
    const QString file = QStringLiteral("audio/%1.%2").arg(hash, ext);
    const QString path = QDir(root).filePath(file);
    // Same name, same bytes: a file of the right size is this clip already.
    if (QFileInfo(path).isFile() && QFileInfo(path).size() == bytes.size()) return file;
    if (!QDir().mkpath(QFileInfo(path).absolutePath())) {
        if (error) *error = QObject::tr("could not create the folder %1").arg(QFileInfo(path).absolutePath());
        return {};
    }
    // QSaveFile writes beside and renames: a crash never leaves half a recording under the final name.
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit()) {
        if (error) *error = QObject::tr("could not save a copy in %1: %2").arg(QDir(root).filePath(QStringLiteral("audio")), out.errorString());
        return {};
    }
    return file;
}

QString storedAudioPath(const QString& root, const QString& file) {
    static const QRegularExpression valid(QStringLiteral("^audio/[0-9a-f]{64}\\.[a-z0-9]{2,5}$"));
    if (root.isEmpty() || !valid.match(file).hasMatch()) return {};
    return QDir(root).filePath(file);
}

}  // namespace gd::ui
