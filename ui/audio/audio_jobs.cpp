#include "audio/audio_jobs.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QSet>
#include <QtEndian>
#include <algorithm>
#include <cmath>
#include <new>
#include "audio/audio_files.h"
#include "audio/io/audio_decode.h"
#include "audio/io/wav_file.h"
#include "audio/features/audio_pieces.h"

namespace gd::ui {

namespace {

QString tr(const char* s) { return QCoreApplication::translate("AudioAttachments", s); }

QString explain(const std::exception& e) {
    if (dynamic_cast<const std::bad_alloc*>(&e)) return tr("there is not enough memory to open it.");
    return QString::fromStdString(e.what());
}

// "Could not attach NAME: DETAIL", without naming the file twice when the decoder's detail names it.
QString cannotAttach(const QString& name, const QString& detail) {
    if (detail.contains(name)) return tr("Could not attach the sound: %1").arg(detail);
    return tr("Could not attach %1: %2").arg(name, detail);
}

// Decodes `bytes` with the engine's decoder and, when the model can hear it, stores them.
AudioAttachResult checkAndStore(const QString& root, const QByteArray& bytes, const QString& name,
                                const QString& ext, bool recorded) {
    AudioAttachResult r;
    try {
        const gd::DecodedAudio decoded = gd::decode_audio_bytes(bytes.constData(), size_t(bytes.size()), name.toStdString());
        const int64_t tokens = gd::audio_token_count(int64_t(decoded.samples.size()));
        if (tokens <= 0) {
            r.error = cannotAttach(name, tr("it is too short to hold any sound."));
            return r;
        }
        QString error;
        r.clip.file = storeAudioBytes(root, bytes, ext, &error);
        if (r.clip.file.isEmpty()) {
            r.error = cannotAttach(name, error);
            return r;
        }
        r.clip.name = name;
        r.clip.seconds = decoded.seconds();
        r.clip.tokens = tokens;
        r.clip.recorded = recorded;
    } catch (const std::exception& e) {
        r.error = cannotAttach(name, explain(e));
    }
    return r;
}

}  // namespace

bool offeredAsAudio(const QString& path) {
    static const QSet<QString> extensions = {"wav", "wave", "mp3", "flac", "ogg", "oga", "opus", "m4a", "aac", "webm", "weba", "mka"};
    if (extensions.contains(QFileInfo(path).suffix().toLower())) return true;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return false;
    const QByteArray head = f.read(64);  // a header, not the file: cheap enough for a drop handler
    return gd::looks_like_audio(head.constData(), size_t(head.size()));
}

AudioAttachResult attachAudioFile(const QString& root, const QString& path) {
    AudioAttachResult r;
    const QFileInfo info(path);
    const QString name = info.fileName();
    if (info.isDir()) r.error = tr("%1 is a folder, not a sound.").arg(name);
    else if (!info.exists()) r.error = tr("%1 does not exist (any more).").arg(path);
    else if (info.size() == 0) r.error = tr("Could not attach %1: the file is empty.").arg(name);
    else if (info.size() > kMaxAudioFileBytes)
        r.error = tr("Could not attach %1: the file is larger than %2 MB.").arg(name).arg(kMaxAudioFileBytes >> 20);
    if (!r.error.isEmpty()) return r;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        r.error = tr("Could not open %1: %2").arg(name, f.errorString());
        return r;
    }
    const QByteArray bytes = f.readAll();
    return checkAndStore(root, bytes, name, audioExtension(bytes, info.suffix()), false);
}

AudioAttachResult attachRecording(const QString& root, const std::vector<float>& samples, int rate, const QString& name) {
    AudioAttachResult r;
    try {
        const std::vector<uint8_t> wav = gd::encode_wav_pcm16(samples.data(), samples.size(), rate, 1);
        const QByteArray bytes(reinterpret_cast<const char*>(wav.data()), qsizetype(wav.size()));
        return checkAndStore(root, bytes, name, QStringLiteral("wav"), true);
    } catch (const std::exception& e) {
        r.error = cannotAttach(name, explain(e));
    }
    return r;
}

AudioPlaybackResult decodeForPlayback(const QString& path) {
    AudioPlaybackResult r;
    try {
        const gd::DecodedAudio decoded = gd::decode_audio_file(QFile::encodeName(path).toStdString());
        r.seconds = decoded.seconds();
        r.pcm16.resize(qsizetype(decoded.samples.size() * 2));
        auto* out = reinterpret_cast<uchar*>(r.pcm16.data());
        for (size_t i = 0; i < decoded.samples.size(); ++i) {
            const float s = std::clamp(decoded.samples[i], -1.0f, 1.0f);
            qToLittleEndian(qint16(std::lround(s * 32767.0f)), out + 2 * i);
        }
    } catch (const std::exception& e) {
        r.error = explain(e);
    }
    return r;
}

}  // namespace gd::ui
