#include "images/stored_image.h"

#include <QJsonArray>

namespace gd::ui {

namespace {
const QString kAttachments = QStringLiteral("attachments");
const QString kKind = QStringLiteral("kind");
const QString kImage = QStringLiteral("image");
}  // namespace

QList<StoredImage> imagesFromMeta(const QJsonObject& meta) {
    QList<StoredImage> out;
    for (const QJsonValue& v : meta.value(kAttachments).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(kKind).toString() != kImage) continue;
        StoredImage image;
        image.file = o.value(QStringLiteral("file")).toString();
        image.name = o.value(QStringLiteral("name")).toString();
        image.width = o.value(QStringLiteral("width")).toInt();
        image.height = o.value(QStringLiteral("height")).toInt();
        image.budget = o.value(QStringLiteral("budget")).toInt(280);
        if (image.file.isEmpty()) continue;
        out.append(image);
    }
    return out;
}

void setImagesInMeta(QJsonObject& meta, const QList<StoredImage>& images) {
    QJsonArray list;
    for (const QJsonValue& v : meta.value(kAttachments).toArray())
        if (v.toObject().value(kKind).toString() != kImage) list.append(v);
    for (const StoredImage& image : images)
        list.append(QJsonObject{{kKind, kImage},
                                {"file", image.file},
                                {"name", image.name},
                                {"width", image.width},
                                {"height", image.height},
                                {"budget", image.budget}});
    if (list.isEmpty()) meta.remove(kAttachments);
    else meta.insert(kAttachments, list);
}

}  // namespace gd::ui
