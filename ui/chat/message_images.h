#pragma once
// The images of a sent message, as a row of thumbnails above its text; a click opens a larger view.
// A stored copy that has gone missing shows "image not found" in its place.
#include <QList>
#include <QWidget>
#include "images/stored_image.h"

class QToolButton;

namespace gd::ui {

class ImageLibrary;

class MessageImages : public QWidget {
    Q_OBJECT
public:
    MessageImages(ImageLibrary& library, const QList<StoredImage>& images, QWidget* parent = nullptr);
    const QList<StoredImage>& images() const { return images_; }
    QList<QToolButton*> buttons() const { return buttons_; }

private:
    void showThumbnail(qsizetype index, const QImage& thumbnail);
    void open(qsizetype index);

    ImageLibrary& library_;
    QList<StoredImage> images_;
    QList<QToolButton*> buttons_;
};

}  // namespace gd::ui
