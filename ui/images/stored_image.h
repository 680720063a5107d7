#pragma once
// An image attached to a message, as the chat history keeps it: a copy in the data folder named by
// its content ("images/<sha256>.<ext>", relative, so a moved data folder still works), the name the
// user knew it by, its size and the soft-token budget it is sent at. In a message's metadata JSON:
//   "attachments": [{"kind": "image", "file": "images/<sha>.png", "name": "photo.jpg",
//                    "width": 4032, "height": 3024, "budget": 280}]
// (a list of attachments of kinds, so recordings can join it later).
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

namespace gd::ui {

struct StoredImage {
    QString file;            // relative to the data folder
    QString name;            // shown to the user
    int width = 0, height = 0;  // pixels of the original
    int budget = 280;        // soft tokens (one of gd::kImageBudgets)

    bool operator==(const StoredImage&) const = default;
};

// The images of a message's metadata, in order; entries that are not well-formed images are skipped.
QList<StoredImage> imagesFromMeta(const QJsonObject& meta);
// Sets (or, for an empty list, removes) the image attachments of `meta`, keeping other kinds.
void setImagesInMeta(QJsonObject& meta, const QList<StoredImage>& images);

}  // namespace gd::ui

Q_DECLARE_METATYPE(gd::ui::StoredImage)
