#include "chat/message_input.h"

namespace gd::ui {

MessageInput::MessageInput(QWidget* parent) : QPlainTextEdit(parent) {}

bool MessageInput::canInsertFromMimeData(const QMimeData* source) const {
    return offersImages(source) || QPlainTextEdit::canInsertFromMimeData(source);
}

void MessageInput::insertFromMimeData(const QMimeData* source) {
    const OfferedImages offered = offeredImages(source);
    if (offered.any()) emit imagesOffered(offered);
    else QPlainTextEdit::insertFromMimeData(source);
}

}  // namespace gd::ui
