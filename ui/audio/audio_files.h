#pragma once
// The copies of attached sounds, kept in <root>/audio/ under the SHA-256 of their bytes, exactly like
// images (images/image_files.h): attaching the same file twice stores it once, and a message keeps
// its recording even when the original is moved or deleted. Recordings are stored as 16-bit PCM WAV;
// dropped files keep their own container (the decoder, not the name, decides what they are).
// Plain functions on paths, safe to call from any thread.
#include <QByteArray>
#include <QString>

namespace gd::ui {

// "wav", "mp3", "flac", "ogg", "webm", "m4a" from the first bytes; `fallback` (lower case, 2 to 4
// letters, else "audio") for the rest.
QString audioExtension(const QByteArray& bytes, const QString& fallback = {});

// Writes `bytes` to <root>/audio/<sha256>.<ext> unless that file is already there, and returns the
// relative name ("audio/<sha256>.<ext>"), or "" with *error set.
QString storeAudioBytes(const QString& root, const QByteArray& bytes, const QString& ext, QString* error);

// The absolute path of a stored clip, or "" when `file` is not a name storeAudioBytes makes.
QString storedAudioPath(const QString& root, const QString& file);

}  // namespace gd::ui
