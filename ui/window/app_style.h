#pragma once
// The app's look: the style sheet and icon from the compiled-in resources. Called by the app's
// main() and by the UI tests, so screenshots show what users see.
class QApplication;

namespace gd::ui {
void applyAppStyle(QApplication& app);
}
