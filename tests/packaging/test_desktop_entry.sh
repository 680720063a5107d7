#!/usr/bin/env bash
# packaging.desktop_entry: packaging/gemmadesk.desktop is valid and agrees with the app.
#
#   test_desktop_entry.sh SOURCE_DIR
#
# - desktop-file-validate accepts it (exit 77 = skip when desktop-file-utils is missing);
# - its file name is what main.cpp passes to setDesktopFileName() (Wayland app_id, taskbar grouping);
# - StartupWMClass is the WM_CLASS class Qt's xcb plugin sets: QCoreApplication::applicationName();
# - Exec runs the installed binary, Icon names the installed 256x256 PNG.
set -uo pipefail
src=$1
desktop=$src/packaging/gemmadesk.desktop
main=$src/app/gui/main.cpp
icon=$src/resources/icons/gemmadesk.png
status=0
fail() { echo "FAIL: $*"; status=1; }
key() { sed -n "s/^$1=//p" "$desktop"; }

desktop_name=$(sed -n 's/.*setDesktopFileName(QStringLiteral("\([^"]*\)")).*/\1/p' "$main")
app_name=$(sed -n 's/.*setApplicationName(QStringLiteral("\([^"]*\)")).*/\1/p' "$main")
[ -n "$desktop_name" ] || fail "no setDesktopFileName(QStringLiteral(...)) in $main"
[ -n "$app_name" ] || fail "no setApplicationName(QStringLiteral(...)) in $main"
[ "$(basename "$desktop" .desktop)" = "$desktop_name" ] || fail "file name $(basename "$desktop") but setDesktopFileName(\"$desktop_name\")"
[ "$(key StartupWMClass)" = "$app_name" ] || fail "StartupWMClass=$(key StartupWMClass) but the WM_CLASS class is \"$app_name\""
[ "$(key Exec | awk '{print $1}')" = gemmadesk ] || fail "Exec=$(key Exec) does not start gemmadesk"
[ "$(key Icon)" = gemmadesk ] || fail "Icon=$(key Icon), the package installs gemmadesk.png"
[ "$(key Terminal)" = false ] || fail "Terminal=$(key Terminal)"
# PNG: the IHDR width and height are the big-endian words at bytes 16..23.
[ "$(head -c 8 "$icon" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$icon is not a PNG"
size=$(od -An -tu1 -j16 -N8 "$icon" | awk '{print ($1*2^24+$2*2^16+$3*256+$4) "x" ($5*2^24+$6*2^16+$7*256+$8)}')
[ "$size" = 256x256 ] || fail "$icon is $size, it is installed as hicolor/256x256"
[ $status -eq 0 ] && echo "PASS: names agree with main.cpp (desktop file $desktop_name, WM class $app_name), icon 256x256"

if ! command -v desktop-file-validate >/dev/null; then
  echo "SKIP: desktop-file-validate is not installed (desktop-file-utils): the file was not validated"
  [ $status -eq 0 ] && exit 77
  exit $status
fi
if out=$(desktop-file-validate "$desktop" 2>&1) && [ -z "$out" ]; then
  echo "PASS: desktop-file-validate"
else
  fail "desktop-file-validate: $out"
fi
exit $status
