#pragma once
// Engine failures in plain words with what to do, for the status area and dialogs.
#include <QString>
#include <exception>
#include <stdexcept>

namespace gd::ui {

// What loading `path` failed with, explained. Call inside a catch block with the exception.
QString describeLoadError(const std::exception& e, const QString& path);
QString describeGenerationError(const std::exception& e);

// An image of the conversation could not be used; what() is already the sentence for the user
// (UTF-8), so describeGenerationError() passes it on as it is.
class ImageInputError : public std::runtime_error {
public:
    explicit ImageInputError(const QString& message) : std::runtime_error(message.toStdString()) {}
};
QString describeImageError(const std::exception& e, const QString& imageName);
QString describeMissingImage(const QString& imageName);
// Sending images to a model without a vision tower.
QString noImageInputMessage();

// The same for the sounds of a conversation (recordings, audio files).
class AudioInputError : public std::runtime_error {
public:
    explicit AudioInputError(const QString& message) : std::runtime_error(message.toStdString()) {}
};
QString describeAudioError(const std::exception& e, const QString& clipName);
QString describeMissingAudio(const QString& clipName);
// Sending sounds to a model without an audio tower (or recording for one).
QString noAudioInputMessage();

}  // namespace gd::ui
