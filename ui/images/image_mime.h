#pragma once
// Images offered by a drag and drop or by the clipboard: local files (their content is checked when
// attached, not their extension) or an image itself (a screenshot, "copy image" in a browser).
// ImageDropFilter lets any widget take them: install it on the widget (for a scroll area, on its
// viewport) and it accepts the drag and hands the drop over.
#include <QImage>
#include <QObject>
#include <QStringList>
#include <functional>

class QMimeData;

namespace gd::ui {

struct OfferedImages {
    QStringList files;  // local paths, in the order given
    QImage image;       // when no files were offered
    bool any() const { return !files.isEmpty() || !image.isNull(); }
};

// What `mime` offers as images. Files win over image data (a file manager offers both: the file is
// the original), and plain text with neither is not an image.
OfferedImages offeredImages(const QMimeData* mime);
// The same question without decoding image data, for drag-enter and canInsertFromMimeData.
bool offersImages(const QMimeData* mime);

class ImageDropFilter : public QObject {
    Q_OBJECT
public:
    using Take = std::function<void(const OfferedImages&)>;
    ImageDropFilter(QWidget* target, Take take);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    Take take_;
};

}  // namespace gd::ui
