#include "engine/engine_errors.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <new>
#include "common/error.h"

namespace gd::ui {

namespace {
QString tr(const char* s) { return QCoreApplication::translate("EngineErrors", s); }
}  // namespace

QString describeLoadError(const std::exception& e, const QString& path) {
    const QString name = QFileInfo(path).fileName();
    const QString detail = QString::fromStdString(e.what());
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return tr("Not enough memory to load %1. Close other programs, or pick a smaller model or "
                  "quantization (the model picker shows what fits).").arg(name);
    if (dynamic_cast<const gd::FormatError*>(&e))
        return tr("%1 is damaged or is not a model file (%2). Download it again, or pick another file.")
            .arg(name, detail);
    if (dynamic_cast<const gd::ModelError*>(&e))
        return tr("%1 can't be used as a Gemma 4 model: %2").arg(name, detail);
    return tr("Loading %1 failed: %2").arg(name, detail);
}

QString describeGenerationError(const std::exception& e) {
    if (dynamic_cast<const ImageInputError*>(&e) || dynamic_cast<const AudioInputError*>(&e))
        return QString::fromStdString(e.what());
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return tr("Ran out of memory while answering. Shorten the conversation (start a new chat), "
                  "lower the context length in Settings, or use a smaller model.");
    return tr("The answer failed: %1").arg(QString::fromStdString(e.what()));
}

QString describeImageError(const std::exception& e, const QString& imageName) {
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return tr("Not enough memory to read the image %1. Pick a lower image detail, or close other programs.").arg(imageName);
    const QString detail = QString::fromStdString(e.what());
    // The decoder's messages name the file already: then it is not named twice.
    if (dynamic_cast<const gd::FormatError*>(&e))
        return detail.contains(imageName) ? tr("An image can't be read: %1").arg(detail)
                                          : tr("The image %1 can't be read: %2").arg(imageName, detail);
    return detail.contains(imageName) ? tr("An image could not be used: %1").arg(detail)
                                      : tr("The image %1 could not be used: %2").arg(imageName, detail);
}

QString describeMissingImage(const QString& imageName) {
    return tr("The image %1 is no longer in the app's image folder. Attach it again.").arg(imageName);
}

QString noImageInputMessage() {
    return tr("This model has no image input (for GGUF, put its mmproj file next to it).");
}

QString describeAudioError(const std::exception& e, const QString& clipName) {
    if (dynamic_cast<const std::bad_alloc*>(&e))
        return tr("Not enough memory to listen to %1. Use a shorter recording, or close other programs.").arg(clipName);
    const QString detail = QString::fromStdString(e.what());
    if (dynamic_cast<const gd::FormatError*>(&e))
        return detail.contains(clipName) ? tr("A sound can't be read: %1").arg(detail)
                                         : tr("The sound %1 can't be read: %2").arg(clipName, detail);
    return detail.contains(clipName) ? tr("A sound could not be used: %1").arg(detail)
                                     : tr("The sound %1 could not be used: %2").arg(clipName, detail);
}

QString describeMissingAudio(const QString& clipName) {
    return tr("The sound %1 is no longer in the app's audio folder. Record or attach it again.").arg(clipName);
}

QString noAudioInputMessage() {
    return tr("This model has no audio input. Gemma 4 E2B and E4B understand speech (for GGUF, with their "
              "mmproj file next to them).");
}

}  // namespace gd::ui
