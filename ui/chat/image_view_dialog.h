#pragma once
// A larger view of an image: either exactly what the model sees at a budget (the composer's
// preview: the reference resize, pixel for pixel) or the original fitted to the screen (a sent
// message). The image is prepared on ImageLibrary's threads; the dialog says so meanwhile.
#include <QDialog>
#include <QImage>

class QLabel;
class QScrollArea;

namespace gd::ui {

class ImageLibrary;

class ImageViewDialog : public QDialog {
    Q_OBJECT
public:
    ImageViewDialog(ImageLibrary& library, const QString& title, QWidget* parent = nullptr);

    void showForModel(const QString& file, int budget, const QString& caption);
    void showOriginal(const QString& file, const QString& caption);
    QImage image() const { return image_; }  // null until shown

signals:
    void imageShown();

private:
    void onRendered(quint64 ticket, const QImage& image, const QString& error);

    ImageLibrary& library_;
    quint64 ticket_ = 0;
    QImage image_;
    QLabel* caption_ = nullptr;
    QLabel* picture_ = nullptr;
    QScrollArea* scroll_ = nullptr;
};

}  // namespace gd::ui
