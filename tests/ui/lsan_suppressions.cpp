// Linked into every UI test. Under Xvfb, Qt's xcb platform talks to D-Bus (accessibility, theme) and
// libdbus keeps a buffer for the life of the process that LeakSanitizer reports at exit; fontconfig
// keeps its caches likewise. Neither is ours nor a real leak; only allocations made inside those
// libraries are excluded, so a leak in our code still fails the test. Qt 6.4's flite speech engine
// (spoken replies) leaves its PulseAudio output's 4 MB buffer and device allocated inside
// libQt6Multimedia at exit (its sink lives on the engine's own thread, which Qt does not join). Built into the binary (not an
// LSAN_OPTIONS file) so a test run by hand behaves as under ctest. Unused without ASan.

extern "C" __attribute__((used, visibility("default"))) const char* __lsan_default_suppressions() {
    return "leak:libdbus-1.so\nleak:libfontconfig.so\nleak:libQt6Multimedia.so\n";
}
