#pragma once
// Engine failures in plain words with what to do, for the status area and dialogs.
#include <QString>
#include <exception>

namespace gd::ui {

// What loading `path` failed with, explained. Call inside a catch block with the exception.
QString describeLoadError(const std::exception& e, const QString& path);
QString describeGenerationError(const std::exception& e);

}  // namespace gd::ui
