#!/bin/sh
# Regenerates the audio decoder fixtures in tests/data/audio/files (and the fuzz seeds in
# tests/fuzz/corpus/fuzz_audio) from a synthetic voice and synthetic tones.
# Needs espeak-ng, sox and the ffmpeg command-line tool (apt-get install espeak-ng sox ffmpeg);
# only to make the files: the tests read the committed copies.
# Usage: tools/reference/make_audio_fixtures.sh [OUT_DIR]
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/tests/data/audio/files}
corpus=$root/tests/fuzz/corpus/fuzz_audio
mkdir -p "$out" "$corpus"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# -bitexact keeps FFmpeg's version string out of the files, so a rerun changes nothing needlessly.
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }
ffa() { ff -i "$work/speech.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$@"; }

# The voice: exactly 2.000 s at 16 kHz mono s16 (0.1 s lead-in, padded with silence, then cut),
# so every format's expected length is 2 s. (-V1: trim ends the chain before the end pad is used
# up, which sox reports as a harmless warning.)
espeak-ng -s 190 -w "$work/voice.wav" "Hello from Gemma Desk."
sox -V1 -D "$work/voice.wav" -r 16000 -c 1 -b 16 "$out/speech_16k_mono_s16.wav" pad 0.1 2 trim 0 2
cp "$out/speech_16k_mono_s16.wav" "$work/speech.wav"

# WAV in other sample formats and rates.
sox -D "$work/speech.wav" -r 22050 -e floating-point -b 32 "$out/speech_22k_mono_f32.wav" trim 0 0.5
sox -D "$work/speech.wav" -r 11025 -e unsigned-integer -b 8 "$out/speech_11k_mono_u8.wav"

# 440 Hz at 44.1 kHz stereo s16, 0.5 s: left at amplitude 0.5, right at 0.1, in phase. The mono
# mix must be a 440 Hz sine of amplitude 0.3 (the mean).
sox -D -n -r 44100 -c 2 -b 16 "$out/sine440_44k_stereo_l05_r01.wav" synth 0.5 sine 440 sine 440 remix 1v0.5 2v0.1

# Silence, lossless: must decode to exact zeros.
sox -D -n -r 16000 -c 1 -b 16 "$work/silence.wav" trim 0 1
ff -i "$work/silence.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a flac "$out/silence_1s.flac"

# Compressed formats, all from the 2 s voice, low bit rates.
ffa -c:a flac "$out/speech.flac"
ffa -ar 22050 -c:a libmp3lame -b:a 32k "$out/speech.mp3"
ffa -c:a libvorbis -q:a 0 "$out/speech.ogg"
ffa -c:a libopus -b:a 16k "$out/speech.opus"
ffa -c:a aac -b:a 24k "$out/speech.m4a"
ffa -c:a libopus -b:a 16k -f webm "$out/speech.webm"
# A video with a sound track: a 32x32 blue picture at 5 fps plus the voice in AAC.
ff -f lavfi -i color=c=blue:s=32x32:r=5:d=2 -i "$work/speech.wav" -map 0:v -map 1:a -map_metadata -1 \
    -fflags +bitexact -flags +bitexact -c:v mpeg4 -q:v 31 -c:a aac -b:a 24k -shortest "$out/video_with_speech.mp4"
# A video without sound, which must be refused as having no audio track.
ff -f lavfi -i color=c=red:s=32x32:r=5:d=1 -map_metadata -1 -fflags +bitexact -flags +bitexact -c:v mpeg4 -q:v 31 \
    "$out/video_only.mp4"

# Fuzz seeds: small valid files of each container (the fuzzer mutates them).
sox -D "$work/speech.wav" -r 8000 -b 8 -e unsigned-integer "$corpus/seed.wav" trim 0 0.1
ff -i "$corpus/seed.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a flac "$corpus/seed.flac"
ff -i "$corpus/seed.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a libmp3lame -b:a 8k "$corpus/seed.mp3"
ff -i "$corpus/seed.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a libopus -b:a 6k "$corpus/seed.opus"
ff -i "$corpus/seed.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a aac -b:a 8k "$corpus/seed.m4a"
ff -i "$corpus/seed.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a libopus -b:a 6k -f webm "$corpus/seed.webm"
ff -i "$corpus/seed.wav" -map_metadata -1 -fflags +bitexact -flags:a +bitexact -c:a libvorbis -q:a 0 "$corpus/seed.ogg"

du -cb "$out"/* | tail -n 1
