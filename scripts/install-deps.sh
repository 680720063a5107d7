#!/usr/bin/env bash
# Installs the Debian 12 packages Gemma Desk needs to build, run and test.
# Idempotent: packages already present are skipped; safe to run on every build.
# The list is the one verified in ../shared/notes/TOOLCHAIN.md, plus the JSON library,
# the test framework and the fuzzing runtime.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config ccache
  # core libraries (Qt-free engine)
  nlohmann-json3-dev libsentencepiece-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libavcodec-dev libavformat-dev libavutil-dev libswresample-dev
  libvulkan-dev glslc
  # desktop app
  qt6-base-dev qt6-declarative-dev qt6-multimedia-dev
  qml6-module-qtquick qml6-module-qtquick-window qml6-module-qtquick-controls
  qml6-module-qtquick-layouts qml6-module-qtquick-templates qml6-module-qtqml-workerscript
  xvfb xauth
  qt6-speech-dev qt6-speech-flite-plugin   # spoken replies: Qt TextToSpeech with the offline Flite engine
  libqt6sql6-sqlite   # the Qt SQLite driver (chat history); qt6-base-dev does not pull it in
  # packaging and its tests: dpkg-shlibdeps (dpkg-dev), desktop-file-validate, xwininfo (x11-utils),
  # strace (app.offline_chat: no AF_INET socket)
  dpkg-dev desktop-file-utils x11-utils strace
  # voice tests: a PulseAudio server with a fake microphone, speech made by espeak-ng, sox for WAVs
  pulseaudio pulseaudio-utils espeak-ng sox
  # tests, sanitizers and fuzzers
  googletest libgtest-dev clang-14 libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
