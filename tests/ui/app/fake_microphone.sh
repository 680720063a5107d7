#!/bin/sh
# A fake microphone for the voice tests: a private PulseAudio server with a null sink ("FakeSpeaker")
# and a remap source on its monitor ("FakeMic": Qt hides *.monitor sources). Whatever is played into
# the speaker is what the microphone hears, in real time.
#
#   fake_microphone.sh start          starts a server; prints its folder (PULSE_SERVER=unix:DIR/native)
#   fake_microphone.sh stop DIR       stops it and removes DIR
#   fake_microphone.sh unplug DIR     removes the microphone (the source module), as unplugging does
#   fake_microphone.sh plug DIR       adds it again
#   fake_microphone.sh play DIR FILE  plays FILE into the speaker (blocks while it plays)
#
# Needs pulseaudio and pulseaudio-utils (pactl, paplay); exits 77 when they are missing.
set -eu
command -v pulseaudio >/dev/null 2>&1 && command -v pactl >/dev/null 2>&1 && command -v paplay >/dev/null 2>&1 || {
  echo "pulseaudio and pulseaudio-utils are not installed" >&2; exit 77; }

plug() {
  pactl load-module module-remap-source master=fakespk.monitor source_name=fakemic \
    source_properties=device.description=FakeMic >/dev/null
  pactl set-default-source fakemic
}

case "${1:-}" in
start)
  # Short path under /tmp: a unix socket path must stay under 108 bytes.
  D=$(mktemp -d /tmp/gd-fakemic-XXXXXX)
  chmod 700 "$D"
  cat > "$D/f.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$D/native
load-module module-null-sink sink_name=fakespk sink_properties=device.description=FakeSpeaker
load-module module-remap-source master=fakespk.monitor source_name=fakemic source_properties=device.description=FakeMic
set-default-sink fakespk
set-default-source fakemic
PA
  HOME=$D XDG_RUNTIME_DIR=$D PULSE_RUNTIME_PATH=$D PULSE_STATE_PATH=$D \
    pulseaudio -n -F "$D/f.pa" --daemonize=yes --exit-idle-time=-1 --use-pid-file=no \
      --log-target=file:"$D/pa.log" >/dev/null 2>&1 || { cat "$D/pa.log" >&2 2>/dev/null; exit 1; }
  export PULSE_SERVER="unix:$D/native"
  i=0
  until pactl info >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 50 ] || { echo "the PulseAudio server did not start" >&2; exit 1; }; sleep 0.1
  done
  echo "$D"
  ;;
stop)
  PULSE_SERVER="unix:$2/native" pactl exit >/dev/null 2>&1 || true
  rm -rf "$2"
  ;;
unplug)
  export PULSE_SERVER="unix:$2/native"
  pactl unload-module module-remap-source
  ;;
plug)
  export PULSE_SERVER="unix:$2/native"
  plug
  ;;
play)
  PULSE_SERVER="unix:$2/native" paplay -d fakespk "$3"
  ;;
*)
  echo "usage: $0 start | stop DIR | unplug DIR | plug DIR | play DIR FILE" >&2; exit 2 ;;
esac
