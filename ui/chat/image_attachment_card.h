#pragma once
// One image attached in the composer: its thumbnail (click: the image as the model will see it),
// its name, a remove button, and a slider over the five soft-token budgets whose label says, before
// sending, how many tokens the image will cost and at what resolution the model sees it — computed
// by the engine's own sizing rule (gd::image_target_size), never re-derived here.
// While the file is still being read the card shows only the name.
#include <QFrame>
#include <QImage>
#include "images/stored_image.h"

class QLabel;
class QSlider;
class QToolButton;

namespace gd::ui {

class ImageAttachmentCard : public QFrame {
    Q_OBJECT
public:
    ImageAttachmentCard(const QString& name, int budget, QWidget* parent = nullptr);

    // The file was read and stored: show it (the card's budget is kept).
    void setImage(const StoredImage& image);
    void setThumbnail(const QImage& thumbnail);
    bool isReady() const { return !image_.file.isEmpty(); }
    StoredImage image() const;   // with the chosen budget
    int budget() const;
    void setBudget(int budget);  // snapped to the nearest of the five
    // "280 tokens · 768×768", what the label shows for the chosen budget ("" until ready).
    QString detailText() const;

    QSlider* slider() const { return slider_; }

signals:
    void removeRequested();
    void previewRequested();

private:
    void updateDetail();

    StoredImage image_;
    QToolButton* thumb_ = nullptr;
    QLabel* name_ = nullptr;
    QToolButton* remove_ = nullptr;
    QSlider* slider_ = nullptr;
    QLabel* detail_ = nullptr;
};

// The index in gd::kImageBudgets nearest to `budget`.
int budgetIndex(int budget);

}  // namespace gd::ui
