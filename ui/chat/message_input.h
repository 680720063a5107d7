#pragma once
// The composer's text box. Images pasted (Ctrl+V, the context menu) or dropped onto it are handed
// to the composer as attachments instead of being inserted as text (a file's path, or nothing).
#include <QPlainTextEdit>
#include "images/image_mime.h"

namespace gd::ui {

class MessageInput : public QPlainTextEdit {
    Q_OBJECT
public:
    explicit MessageInput(QWidget* parent = nullptr);

signals:
    void imagesOffered(const gd::ui::OfferedImages& images);

protected:
    bool canInsertFromMimeData(const QMimeData* source) const override;
    void insertFromMimeData(const QMimeData* source) override;
};

}  // namespace gd::ui
