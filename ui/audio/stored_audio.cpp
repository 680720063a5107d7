#include "audio/stored_audio.h"

#include <QJsonArray>
#include <cmath>

namespace gd::ui {

namespace {
const QString kAttachments = QStringLiteral("attachments");
const QString kKind = QStringLiteral("kind");
const QString kAudio = QStringLiteral("audio");
}  // namespace

QList<StoredAudio> audioFromMeta(const QJsonObject& meta) {
    QList<StoredAudio> out;
    for (const QJsonValue& v : meta.value(kAttachments).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(kKind).toString() != kAudio) continue;
        StoredAudio clip;
        clip.file = o.value(QStringLiteral("file")).toString();
        clip.name = o.value(QStringLiteral("name")).toString();
        clip.seconds = o.value(QStringLiteral("seconds")).toDouble();
        clip.tokens = o.value(QStringLiteral("tokens")).toInteger();
        clip.recorded = o.value(QStringLiteral("recorded")).toBool();
        if (clip.file.isEmpty()) continue;
        out.append(clip);
    }
    return out;
}

void setAudioInMeta(QJsonObject& meta, const QList<StoredAudio>& clips) {
    QJsonArray list;
    for (const QJsonValue& v : meta.value(kAttachments).toArray())
        if (v.toObject().value(kKind).toString() != kAudio) list.append(v);
    for (const StoredAudio& clip : clips)
        list.append(QJsonObject{{kKind, kAudio},
                                {"file", clip.file},
                                {"name", clip.name},
                                {"seconds", clip.seconds},
                                {"tokens", clip.tokens},
                                {"recorded", clip.recorded}});
    if (list.isEmpty()) meta.remove(kAttachments);
    else meta.insert(kAttachments, list);
}

QString formatDuration(double seconds) {
    const qint64 total = qint64(std::floor(std::max(0.0, seconds)));
    const qint64 h = total / 3600, m = (total / 60) % 60, s = total % 60;
    if (h > 0) return QStringLiteral("%1:%2:%3").arg(h).arg(m, 2, 10, QLatin1Char('0')).arg(s, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(m).arg(s, 2, 10, QLatin1Char('0'));
}

}  // namespace gd::ui
