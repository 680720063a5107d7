#pragma once
// Small glyphs for the voice controls (microphone, play, stop), drawn so they follow the palette
// and need no image plugin or icon theme.
#include <QColor>
#include <QIcon>

namespace gd::ui {

QIcon microphoneIcon(const QColor& color);
QIcon playIcon(const QColor& color);
QIcon stopIcon(const QColor& color);
QIcon speakerIcon(const QColor& color);

}  // namespace gd::ui
