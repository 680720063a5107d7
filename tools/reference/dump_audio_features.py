#!/usr/bin/env python3
"""Reference output of the Gemma 4 audio front end (log-mel features), from Hugging Face transformers.

For a handful of 16 kHz clips (speech from espeak-ng, a chord, noise, silence, a very quiet signal,
clips of awkward lengths, and a 30-second synthetic clip) this script

  1. makes the clip as float32 samples and stores exactly those samples (the C++ test feeds the same
     samples, so it needs no decoder or resampler),
  2. runs transformers' Gemma4AudioFeatureExtractor with its default parameters on the clip, checks
     that its frame mask is exactly the first audio_frame_count(n) frames (the padding to a multiple
     of 128 samples only adds invalid, zeroed frames at the end) and stores the valid frames,
  3. runs the same extractor once more with numpy.fft.rfft computing in double (the input upcast to
     float64) and stores those frames too. numpy >= 2 computes rfft of float32 input in float32;
     the C++ computes the FFT in double, so this second output is the C++ pipeline's exact twin and
     the first one is the reference proper,
  4. stores the mel filter bank (sparse: first non-zero bin and the weights of each filter, as
     shortest round-trip decimal doubles) and the processor's soft-token counts for many lengths.

The 30-second clip is made from integers by a rule the C++ test repeats (see long_clip()); only
every 97th frame, the last frame and the float64 sum of all features are stored, to keep the files
small.

Everything runs on the CPU and is deterministic: a second run gives byte-identical files (the speech
depends on the installed espeak-ng and sox; their versions are recorded).

Usage (from the repository root):
    /work/venv/bin/python tools/reference/dump_audio_features.py
    /work/venv/bin/python tools/reference/dump_audio_features.py --out /tmp/x
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import types

import numpy as np
import safetensors
import transformers
from safetensors.numpy import save_file
from transformers.models.gemma4.feature_extraction_gemma4 import Gemma4AudioFeatureExtractor
from transformers.models.gemma4.processing_gemma4 import Gemma4Processor

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_OUT = os.path.join(ROOT, "tests", "data", "audio", "features")
SR = 16000
SPEECH_TEXT = "Gemma, listen: the quick brown fox jumps."
LONG_SAMPLES = 480000
LONG_ROW_STEP = 97


def frame_count(n: int) -> int:
    """Spec §4.7: frames of an unpadded clip of n samples."""
    return 0 if n < 161 else (n - 161) // 160 + 1


# ----------------------------------------------------------------------------------------------
# Clips
# ----------------------------------------------------------------------------------------------
def speech() -> np.ndarray:
    """espeak-ng (22050 Hz, 16 bit) resampled by sox to 16 kHz float32, without dither."""
    with tempfile.TemporaryDirectory() as tmp:
        wav, raw = os.path.join(tmp, "s.wav"), os.path.join(tmp, "s.raw")
        subprocess.run(["espeak-ng", "-s", "175", "-w", wav, SPEECH_TEXT], check=True)
        subprocess.run(["sox", wav, "-t", "raw", "-e", "floating-point", "-b", "32", "-L",
                        "-r", str(SR), "-c", "1", raw], check=True)
        return np.fromfile(raw, "<f4").astype(np.float32)


def chord(seconds: float, peak: float) -> np.ndarray:
    """A major triad (A3, C#4, E4), four harmonics each at 1/h, attack 30 ms and exponential decay."""
    t = np.arange(int(seconds * SR), dtype=np.float64) / SR
    x = np.zeros_like(t)
    for f0 in (220.0, 277.18, 329.63):
        for h in range(1, 5):
            x += np.sin(2 * np.pi * f0 * h * t + 0.3 * h) / h
    env = np.minimum(t / 0.03, 1.0) * np.exp(-1.5 * t)
    x *= env
    return (peak * x / np.abs(x).max()).astype(np.float32)


def chirp(n: int, f0: float, f1: float, amp: float) -> np.ndarray:
    """A linear sweep from f0 to f1 Hz over n samples."""
    t = np.arange(n, dtype=np.float64) / SR
    k = (f1 - f0) / (n / SR)
    return (amp * np.sin(2 * np.pi * (f0 * t + 0.5 * k * t * t))).astype(np.float32)


def noise(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-0.5, 0.5, n).astype(np.float32)


def long_clip(n: int) -> np.ndarray:
    """Integer-made, so C++ can repeat it bit for bit (tests/audio/test_log_mel.cpp, long_clip()).

    LCG noise (state = state * 1664525 + 1013904223 mod 2^32, from state 12345; the top 16 bits as a
    signed value, arithmetic-shifted right by 4) plus a sawtooth ((7 i mod 200) - 100) * 40, times an
    envelope (i // 16000) mod 5 that is 0 (digital silence) one second in five; divided by 32768,
    which is exact in float32.
    """
    out = np.empty(n, np.float32)
    state = 12345
    for i in range(n):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        top = (state >> 16) - 65536 * ((state >> 31) & 1)
        v = ((top >> 4) + ((7 * i) % 200 - 100) * 40) * ((i // 16000) % 5)
        out[i] = v / 32768.0
    return out


# ----------------------------------------------------------------------------------------------
# The reference
# ----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def double_rfft():
    """numpy.fft.rfft computing in float64, for the extractor run that mirrors the C++."""
    original = np.fft.rfft
    np.fft.rfft = lambda a, *args, **kw: original(np.asarray(a, dtype=np.float64), *args, **kw)
    try:
        yield
    finally:
        np.fft.rfft = original


def extract(fe: Gemma4AudioFeatureExtractor, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A list of one clip: this transformers version fails on a bare 1-D array.
    out = fe([x], return_tensors="np")
    return out["input_features"][0], out["input_features_mask"][0]


def valid_frames(fe, x: np.ndarray) -> tuple[np.ndarray, int]:
    feats, mask = extract(fe, x)
    valid = frame_count(len(x))
    assert feats.dtype == np.float32 and feats.shape[1] == 128
    assert mask.shape[0] == feats.shape[0] and mask.shape[0] >= valid
    assert mask[:valid].all() and not mask[valid:].any(), "mask is not the first audio_frame_count(n) frames"
    assert not feats[valid:].any(), "invalid frames are not zeroed"
    return np.ascontiguousarray(feats[:valid]), int(mask.shape[0])


def diff_stats(a: np.ndarray, b: np.ndarray) -> dict:
    if a.size == 0:
        return {"max_abs": 0.0, "max_ulps": 0}
    d = np.abs(a.astype(np.float64) - b.astype(np.float64))
    ulps = d / np.spacing(np.maximum(np.abs(a), np.abs(b)))
    return {"max_abs": float(d.max()), "max_ulps": int(np.ceil(ulps.max()))}


def sparse_filter_bank(fb: np.ndarray) -> list[dict]:
    out = []
    for j in range(fb.shape[1]):
        nz = np.nonzero(fb[:, j])[0]
        first = int(nz[0]) if nz.size else 0
        last = int(nz[-1]) + 1 if nz.size else 0
        out.append({"first": first, "weights": [float(w) for w in fb[first:last, j]]})
    return out


def token_counts(fe) -> list[list[int]]:
    """Gemma4Processor._compute_audio_num_tokens, called on a stand-in holding only what it reads
    (feature_extractor, audio_seq_length 750): a full processor would need a tokenizer."""
    ns = types.SimpleNamespace(feature_extractor=fe, audio_seq_length=750)
    lengths = [0, 1, 160, 161, 320, 321, 480, 481, 640, 641, 800, 801, 1000, 4321, 8000, 16000, 16001,
               48000, 80000, 160000, 333333, 479999, 480000]
    return [[n, int(Gemma4Processor._compute_audio_num_tokens(ns, np.zeros(n), SR))] for n in lengths]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default tests/data/audio/features)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    fe = Gemma4AudioFeatureExtractor()

    clips = [
        ("speech", "espeak-ng, 175 wpm: " + SPEECH_TEXT, speech()),
        ("chord", "A major triad with harmonics and an envelope, 1.5 s, peak 0.6", chord(1.5, 0.6)),
        ("noise", "uniform white noise in [-0.5, 0.5), numpy default_rng(1234), 1 s", noise(SR, 1234)),
        ("silence", "digital silence, 0.3 s: every feature is ln(0.001)", np.zeros(4800, np.float32)),
        ("quiet", "the chord at peak 1e-4, 1 s", chord(1.0, 1e-4)),
        ("half_second", "a 100 Hz -> 7 kHz sweep, 0.5 s", chirp(8000, 100.0, 7000.0, 0.7)),
        ("padded", "4940 samples: padded to 4992, the reference adds 1 invalid frame", chirp(4940, 300.0, 3000.0, 0.5)),
        ("one_frame", "161 samples of noise: exactly one frame", noise(161, 7)),
        ("no_frame", "160 samples of noise: no valid frame (the reference makes 1, masked)", noise(160, 8)),
        ("three_frames", "481 samples of noise", noise(481, 9)),
    ]

    cases = []
    for name, what, x in clips:
        feats, total = valid_frames(fe, x)
        with double_rfft():
            feats64, _ = valid_frames(fe, x)
        fname = f"log_mel_{name}.safetensors"
        save_file({"samples": x, "features": feats, "features_f64fft": feats64}, os.path.join(args.out, fname))
        cases.append({"name": name, "file": fname, "what": what, "samples": len(x),
                      "valid_frames": feats.shape[0], "reference_frames": total,
                      "reference_vs_f64fft": diff_stats(feats, feats64)})
        print(f"{name:13s} n={len(x):6d} frames={feats.shape[0]:4d} (of {total:4d}) "
              f"ref vs f64fft {cases[-1]['reference_vs_f64fft']}")

    x = long_clip(LONG_SAMPLES)
    feats, total = valid_frames(fe, x)
    with double_rfft():
        feats64, _ = valid_frames(fe, x)
    rows = list(range(0, feats.shape[0], LONG_ROW_STEP))
    if rows[-1] != feats.shape[0] - 1:
        rows.append(feats.shape[0] - 1)
    fname = "log_mel_long.safetensors"
    save_file({"features": np.ascontiguousarray(feats[rows]), "features_f64fft": np.ascontiguousarray(feats64[rows])},
              os.path.join(args.out, fname))
    long_case = {"name": "long", "file": fname, "what": long_clip.__doc__.split("\n\n")[0] + " 30 s.",
                 "samples": LONG_SAMPLES, "valid_frames": feats.shape[0], "reference_frames": total,
                 "rows": rows, "sum_features": float(feats.astype(np.float64).sum()),
                 "sum_features_f64fft": float(feats64.astype(np.float64).sum()),
                 "reference_vs_f64fft": diff_stats(feats, feats64)}
    print(f"long          n={LONG_SAMPLES} frames={feats.shape[0]} ref vs f64fft {long_case['reference_vs_f64fft']}")

    versions = {"transformers": transformers.__version__, "numpy": np.__version__,
                "safetensors": safetensors.__version__}
    for tool, flag in (("espeak-ng", "--version"), ("sox", "--version")):
        versions[tool] = subprocess.run([tool, flag], capture_output=True, text=True).stdout.strip()
    doc = {
        "generator": "tools/reference/dump_audio_features.py",
        "versions": versions,
        "extractor": "Gemma4AudioFeatureExtractor() defaults, called as fe([samples], return_tensors='np')",
        "tensors": {
            "samples": "float32 [n], 16 kHz, exactly what the extractor was given",
            "features": "float32 [valid_frames, 128], the reference (numpy >= 2: rfft in float32)",
            "features_f64fft": "float32 [valid_frames, 128], the reference with rfft computed in float64",
        },
        "cases": cases,
        "long": long_case,
        "token_counts": token_counts(fe),
        "mel_filter_bank": sparse_filter_bank(fe.mel_filters),
    }
    with open(os.path.join(args.out, "log_mel_cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
