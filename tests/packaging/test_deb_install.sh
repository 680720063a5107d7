#!/usr/bin/env bash
# Builds the .deb (packaging/build-deb.sh: Release, build/package), installs it with apt so that its
# Depends are resolved, checks what it installed and starts the installed app: once on the offscreen
# platform and once on X11 (xvfb-run, the xcb platform plugin). Removes the package at the end,
# unless it was installed before this test.
#
#   tests/packaging/test_deb_install.sh [--deb FILE]    (--deb: test this package, do not build one)
#
# Changes the system (apt-get install/remove), so scripts/test.sh runs it after ctest, not under
# ctest. Uses sudo when not root. Prints PASS/FAIL lines; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/../.."

deb=""
if [ "${1:-}" = --deb ]; then deb=$2; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; finish; }

T=$(mktemp -d /tmp/gemmadesk-deb.XXXXXX)
chmod 755 "$T"  # apt reads the .deb as user _apt
was_installed=no
dpkg-query -W -f='${Status}' gemmadesk 2>/dev/null | grep -q "install ok installed" && was_installed=yes
installed_by_us=no

finish() {
  if [ $installed_by_us = yes ] && [ $was_installed = no ]; then
    if DEBIAN_FRONTEND=noninteractive $SUDO apt-get remove -y -qq gemmadesk > "$T/remove.log" 2>&1 \
       && ! dpkg-query -W -f='${Status}' gemmadesk 2>/dev/null | grep -q "install ok installed" \
       && [ ! -e /usr/bin/gemmadesk ] && [ ! -e /usr/share/applications/gemmadesk.desktop ]; then
      pass "apt-get remove gemmadesk (binaries, desktop entry and icon gone)"
    else
      fail "apt-get remove gemmadesk: $(tail -5 "$T/remove.log")"
    fi
  fi
  if [ $failures -eq 0 ]; then
    echo "test_deb_install: all checks passed"
    rm -rf "$T"
    exit 0
  fi
  echo "test_deb_install: $failures check(s) failed (logs in $T)"
  exit 1
}

# Interrupted (Ctrl-C, timeout, a closed pipe): still remove what this test installed.
trap '' PIPE
trap 'fail "interrupted"; finish' INT TERM HUP

# 1. The package.
if [ -z "$deb" ]; then
  start=$SECONDS
  deb=$(packaging/build-deb.sh 2> "$T/build.log" | tail -1)
  if [ ! -f "$deb" ]; then tail -40 "$T/build.log"; die "packaging/build-deb.sh made no package"; fi
  pass "built $(basename "$deb") in $((SECONDS - start)) s ($(grep '^build-deb:' "$T/build.log" | tail -1))"
fi
cp "$deb" "$T/" && chmod 644 "$T/$(basename "$deb")" || die "cannot copy $deb"
deb=$T/$(basename "$deb")

contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/gemmadesk ./usr/bin/gemmadesk-cli; do
  grep -q "^-rwxr-xr-x root/root .* $f\$" <<< "$contents" || fail "the package has no executable $f"
done
grep -Eq 'quick|qml' <<< "$(dpkg-deb -f "$deb" Depends)" && fail "Depends names Qt Quick/QML, the app is Widgets only"

# 2. Install, letting apt resolve Depends.
if [ $was_installed = yes ]; then reinstall=--reinstall; else reinstall=""; fi
if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $reinstall "$deb" > "$T/install.log" 2>&1; then
  installed_by_us=yes
  pass "apt-get install $(basename "$deb")"
else
  tail -30 "$T/install.log"
  die "apt-get install $(basename "$deb")"
fi

listed=$(dpkg -L gemmadesk)
for f in /usr/bin/gemmadesk /usr/bin/gemmadesk-cli /usr/share/applications/gemmadesk.desktop \
         /usr/share/icons/hicolor/256x256/apps/gemmadesk.png; do
  if grep -qx "$f" <<< "$listed" && [ -e "$f" ]; then pass "dpkg -L lists $f"; else fail "dpkg -L: $f missing"; fi
done
depends=$(dpkg-query -W -f='${Depends}' gemmadesk | tr ',' '\n' | sed 's/^ *//; s/ .*//')
in_depends() { grep -qx "$1" <<< "$depends"; }
for d in libqt6sql6-sqlite libqt6gui6 libqt6widgets6 libqt6network6; do
  if in_depends "$d"; then pass "Depends: $d"; else fail "Depends lacks $d ($(tr '\n' ' ' <<< "$depends"))"; fi
done
# The Qt plugins the app loads at run time (dpkg-shlibdeps cannot see them) must come from packages
# in Depends: the SQLite driver (history), the xcb platform (X11 and XWayland; on Debian 12 it ships
# in libqt6gui6, not in qt6-qpa-plugins) and the TLS backend (model downloads).
plugins=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/qt6/plugins
for p in sqldrivers/libqsqlite.so platforms/libqxcb.so tls/libqopensslbackend.so; do
  owner=$(dpkg -S "$plugins/$p" 2>/dev/null | cut -d: -f1)
  if [ -n "$owner" ] && in_depends "$owner"; then pass "plugin $p comes from $owner, in Depends"
  else fail "plugin $plugins/$p comes from '${owner:-no package}', which is not in Depends"; fi
done
for b in /usr/bin/gemmadesk /usr/bin/gemmadesk-cli; do
  missing=$(ldd "$b" 2>&1 | grep 'not found')
  if [ -z "$missing" ]; then pass "ldd $b: every library found"; else fail "ldd $b: $missing"; fi
  file -L "$b" 2>/dev/null | grep -q 'not stripped' && fail "$b is not stripped"
done
if ldd /usr/bin/gemmadesk | grep -Eqi 'libQt6(Quick|Qml)'; then fail "gemmadesk links Qt Quick/QML"; else pass "gemmadesk links no Qt Quick/QML"; fi
if command -v desktop-file-validate >/dev/null; then
  if out=$(desktop-file-validate /usr/share/applications/gemmadesk.desktop 2>&1) && [ -z "$out" ]; then
    pass "desktop-file-validate /usr/share/applications/gemmadesk.desktop"
  else
    fail "desktop-file-validate: $out"
  fi
else
  echo "NOTE: desktop-file-validate not installed (desktop-file-utils), entry not validated"
fi

# 3. Start the installed app.
export XDG_RUNTIME_DIR=$T/runtime HOME=$T/home
mkdir -p "$XDG_RUNTIME_DIR" "$HOME" && chmod 700 "$XDG_RUNTIME_DIR"
unset ASAN_OPTIONS UBSAN_OPTIONS
if /usr/bin/gemmadesk-cli make-test-model --variant e2b --out "$T/e2b.gguf" > "$T/make-model.log" 2>&1; then
  pass "installed gemmadesk-cli make-test-model"
else
  die "installed gemmadesk-cli make-test-model: $(tail -5 "$T/make-model.log")"
fi

run_app() {  # LABEL NAME PREFIX...: runs the installed app with the tiny model, checks the answer
  local label=$1 name=$2; shift 2
  local rc=0
  "$@" /usr/bin/gemmadesk --data-dir "$T/data-$name" --model "$T/e2b.gguf" --send "Hello" --exit-when-done \
    > "$T/$name.out" 2> "$T/$name.err" || rc=$?
  if [ $rc -eq 0 ] && grep -aq '^\[finish: ' "$T/$name.out"; then
    pass "$label: exit 0, $(grep -a '^\[finish: ' "$T/$name.out")"
  else
    echo "--- stdout"; tail -c 2000 "$T/$name.out"; echo; echo "--- stderr"; tail -30 "$T/$name.err"
    fail "$label: exit $rc$(grep -aq '^\[finish: ' "$T/$name.out" || echo ', no [finish: ...] line')"
  fi
}
run_app "installed app, offscreen platform" offscreen env QT_QPA_PLATFORM=offscreen timeout 120
if command -v xvfb-run >/dev/null; then
  run_app "installed app on X11 (xvfb-run, xcb plugin)" xcb \
    env -u WAYLAND_DISPLAY QT_QPA_PLATFORM=xcb timeout 120 xvfb-run -a -s "-screen 0 1280x800x24"
  # The window's WM_CLASS is what the desktop entry's StartupWMClass must name.
  if command -v xwininfo >/dev/null; then
    wmclass=$(QT_QPA_PLATFORM=xcb timeout 60 xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
      /usr/bin/gemmadesk --data-dir "$0/data-wmclass" >/dev/null 2>&1 & p=$!
      for i in $(seq 1 150); do
        c=$(xwininfo -root -tree 2>/dev/null | sed -n "s/.*\"Gemma Desk\": (\"[^\"]*\" \"\([^\"]*\)\").*/\1/p" | head -1)
        [ -n "$c" ] && break; sleep 0.2
      done
      kill $p 2>/dev/null; wait $p 2>/dev/null; echo "$c"' "$T")
    startup=$(sed -n 's/^StartupWMClass=//p' /usr/share/applications/gemmadesk.desktop)
    if [ -n "$wmclass" ] && [ "$wmclass" = "$startup" ]; then
      pass "window WM_CLASS class '$wmclass' = StartupWMClass"
    else
      fail "window WM_CLASS class '${wmclass:-none seen}', desktop entry StartupWMClass=$startup"
    fi
  fi
else
  fail "xvfb-run is not installed (package xvfb): the X11 start was not tested"
fi

finish
