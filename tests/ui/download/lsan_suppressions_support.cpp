// Under Xvfb, Qt's xcb platform talks to D-Bus (accessibility, theme), and libdbus keeps a buffer
// for the life of the process that LeakSanitizer reports at exit. It is not ours and not a real
// leak; only allocations made inside libdbus are excluded. (Unused when not built with ASan.)

extern "C" __attribute__((used, visibility("default"))) const char* __lsan_default_suppressions() {
    return "leak:libdbus-1.so\n";
}
