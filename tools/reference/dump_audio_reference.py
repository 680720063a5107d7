#!/usr/bin/env python3
"""Reference activations of the Gemma 4 *audio tower*, and audio questions end to end, from transformers.

Transformers is the definition of Gemma 4 for this project. For the two tiny variants with an audio
tower (e2b, e4b) this script

  1. makes a tiny f32 test model with our CLI
     (`gemmadesk-cli make-test-model --variant V --format safetensors --seed 1 --out DIR`),
  2. loads it with Gemma4ForConditionalGeneration.from_pretrained (float32, eval,
     attn_implementation="eager"; a second copy in float64),
  3. part A (encoder): for each case synthesises a deterministic 16 kHz waveform, runs transformers'
     Gemma4AudioFeatureExtractor on it with its default settings, exactly as Gemma4Processor calls it
     (a batch of one: padded to a multiple of 128 samples, "longest"), then feeds input_features and
     input_features_mask to model.model.audio_tower and its last_hidden_state to model.model.embed_audio,
     as Gemma4Model.get_audio_features does; forward hooks record the named tensors below for the
     VALID positions only (the script asserts that the valid frames / tokens are a prefix and that
     their counts are frames = floor((n - 161) / 160) + 1, tokens = ceil(ceil(frames / 2) / 2)),
  4. part B (end to end): renders one user turn with one or two audio clips and a question through the
     test model's chat template, lets Gemma4Processor expand each `<|audio|>` and compute the features,
     runs one full forward pass and records the input ids, the soft tokens of the clips and the logits
     of the last positions (f64 run, like dump_multimodal_reference.py),
  5. writes <out>/audio_<variant>_<case>.safetensors + audio_cases.json and
     <out>/multimodal_audio_<variant>_<case>.safetensors + multimodal_audio_cases.json.

Part A tensor names (rows = time, batch 0, valid rows only; T frames, T1 = ceil(T/2), T2 = ceil(T1/2)
tokens, F1 = 64, F2 = 32, C0 = 128, C1 = 32 SSCP channels, Ha = 32 tower width, P = 64
output_proj_dims, H = 128 text width):
  samples       [n]          the waveform, float32 (what the extractor receives)
  features      [T, 128]     input_features[0, :T] (the extractor's log-mel, float32)
  sscp_conv0    [T1*F1, C0]  output of subsample_conv_projection.layer0 (conv -> LayerNorm over
                             channels -> ReLU), [B, C, T, F] permuted to rows (t, f), columns c
  sscp_conv1    [T2*F2, C1]  the same for layer1
  sscp_out      [T2, Ha]     output of subsample_conv_projection (after input_proj_linear, flatten
                             index f*C1 + c)
  a_ffw1-L      [T2, Ha]     output of layers[L].feed_forward1 (its 0.5 residual included)
  a_attn-L      [T2, Ha]     input of layers[L].lconv1d (forward pre-hook) = r + norm_post_attn(attn),
                             the attention block's residual sum (HF has no module boundary there)
  a_lconv-L     [T2, Ha]     output of layers[L].lconv1d (its residual included)
  a_ffw2-L      [T2, Ha]     output of layers[L].feed_forward2
  a_out-L       [T2, Ha]     output of layers[L] (after norm_out)
  output_proj   [T2, P]      output of audio_tower.output_proj (weight and bias), which HF applies
                             INSIDE Gemma4AudioModel.forward: it is the tower's last_hidden_state
  soft_tokens   [T2, H]      embed_audio(last_hidden_state): weight-less RMSNorm -> projection
Nothing is computed in Python except the row selection and the permute of the SSCP tensors.

Waveforms: sum of a few sines and a chirp under an envelope, plus seeded Gaussian noise
(numpy default_rng), with a stretch of exact digital silence in the longer clips (log(0 + 1e-3)
features); the exact float32 samples are stored, so the C++ tests need no generator.

Cases (part A): "short" 4620 samples (28 frames, 7 tokens: less than one 12-token attention chunk;
the extractor's padding to 4736 adds a 29th, invalid, frame and so an 8th, invalid, token), "mid"
20900 (130 valid of 131 frames, 33 tokens: three chunks), "long" 64129 (400 valid of 401 frames, 100
valid of 101 tokens), and on e2b "mid_tightclip": the mid clip with all 64 clip bounds of the audio tower's clipped linears (q/k/v/post,
ffw_layer_1/2, linear_start/end; input_min/max, output_min/max) replaced by tight values: the 5th and
95th percentiles of the valid values each bound sees in the plain mid run (inputs; outputs before the
output clamp), rounded to a multiple of 1/64 (exact in f32). The test models' own bounds (|x| in
[2, 10]) are reached by a few inputs and no output at all; tightened, both clamps of every kind of
linear bite (asserted). audio_cases.json lists every value set (state_dict name, e.g.
"model.audio_tower.layers.0.self_attn.q_proj.input_min", -> value) under "clip_bounds": a C++ test
overwrites those scalars by name after loading the same test model. "clamped" counts, per kind, the
valid values each bound cut, out of input_values / output_values examined.

The audio towers of the e2b and e4b test models are identical (the test models' values depend only
on seed and tensor name; the text width is 128 on both), so part A asserts that the e4b tensors are
bit-equal to e2b's and stores the large SSCP tensors for e2b only, and for e4b/long only samples,
output_proj and soft_tokens (see stored_names); "not_stored" lists the rest. sscp_conv0 is stored for
"short" only (32 KB per pair of frames): the SSCP is local, so the short case covers it, and
sscp_conv1 / sscp_out cover it on the longer clips. The files stay near 3 MB in all.

Each case is also run in float64 (features cast from the f32 extractor output); audio_cases.json records
per tensor `f32_error` = max|f32 - f64| / max|f64|, the f32 reference's own error, and
`padding_effect` (the same features without the extractor's padding frames, relative). HF's audio
attention and Gemma4RMSNorm hard-code float32 casts (see make_audio_f64), so the float64 copy runs
their forward with those casts going to the input dtype.

The run is deterministic (single thread, deterministic algorithms); a second run gives
byte-identical files.

Usage (from the repository root):
    /work/venv/bin/python tools/reference/dump_audio_reference.py
    /work/venv/bin/python tools/reference/dump_audio_reference.py --cli build/release/app/gemmadesk-cli --out /tmp/x
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import types

import numpy as np
import safetensors
import torch

import transformers
from safetensors.numpy import save_file
from transformers import AutoTokenizer, Gemma4ForConditionalGeneration, Gemma4Processor
from transformers.models.gemma4 import modeling_gemma4
from transformers.models.gemma4.feature_extraction_gemma4 import Gemma4AudioFeatureExtractor
from transformers.models.gemma4.image_processing_gemma4 import Gemma4ImageProcessor
from transformers.models.gemma4.video_processing_gemma4 import Gemma4VideoProcessor

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "reference")
DEFAULT_CLI = os.path.join(REPO_ROOT, "build", "release", "app", "gemmadesk-cli")

VARIANTS = ["e2b", "e4b"]
SEED = 1
SR = 16000
# Part A: name -> (samples, waveform seed, silence [start, end) in samples or None)
CASES = {"short": (4620, 11, None), "mid": (20900, 12, (9000, 10600)), "long": (64129, 13, (30000, 33200))}
TIGHT_VARIANT = "e2b"
TIGHT_CASE = "mid"
# Tight bounds: these quantiles of what each bound sees in the plain run, rounded to 1/64 (exact).
TIGHT_QUANTILES = (0.05, 0.95)
TIGHT_STEP = 64.0
# Which part-A tensors each file keeps (the rest go to "not_stored"; everything is computed and checked).
SSCP = {"sscp_conv0", "sscp_conv1"}


def stored_names(variant: str, case: str, names: list[str]) -> list[str]:
    drop = set()
    if variant != "e2b" or case.endswith("tightclip"):
        drop |= SSCP  # bit-equal to e2b's (asserted) / unchanged by the clip bounds
    if case != "short":
        drop.add("sscp_conv0")
    if case == "long":
        drop.add("sscp_conv1")
        if variant != "e2b":  # bit-equal to e2b's (asserted): only what the e4b test needs to load-check
            return [n for n in names if n in ("output_proj", "soft_tokens")]
    return [n for n in names if n not in drop]


# Part B: one user turn, clips (samples, seed, silence) then the question.
E2E_CASES = {
    "one": {"clips": [(16000, 21, None)], "question": "Transcribe this audio."},
    "two": {"clips": [(16000, 21, None), (10037, 22, (4000, 4800))], "question": "Which of the two clips is longer?"},
}
# What the published tokenizer_config.json names (the test folder's does not).
MEDIA_TOKENS = {"image_token": "<|image|>", "boi_token": "<|image>", "eoi_token": "<image|>",
                "audio_token": "<|audio|>", "boa_token": "<|audio>", "eoa_token": "<audio|>"}


# ----------------------------------------------------------------------------------------------
# inputs

def waveform(n: int, seed: int, silence) -> np.ndarray:
    """Deterministic test signal, float32 in about [-0.6, 0.6]."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64) / SR
    dur = n / SR
    env = np.sqrt(np.sin(np.pi * (t + 0.5 / SR) / dur)) * (0.65 + 0.35 * np.sin(2 * np.pi * 3.0 * t + seed))
    f0 = 140.0 + 10.0 * seed
    x = (0.20 * np.sin(2 * np.pi * f0 * t) + 0.12 * np.sin(2 * np.pi * 3.1 * f0 * t + 0.3)
         + 0.07 * np.sin(2 * np.pi * 11.7 * f0 * t + 1.1)
         + 0.10 * np.sin(2 * np.pi * (300.0 * t + 0.5 * (5200.0 / dur) * t * t)))  # chirp 300 -> 5500 Hz
    x = env * x + 0.02 * rng.standard_normal(n)
    x = x.astype(np.float32)
    if silence is not None:
        x[silence[0]:silence[1]] = 0.0
    return x


def expected_counts(n: int) -> tuple[int, int, int]:
    frames = max((n - 161) // 160 + 1, 0)
    t1 = (frames + 1) // 2
    return frames, t1, (t1 + 1) // 2


def extract(fe: Gemma4AudioFeatureExtractor, clips: list[np.ndarray]):
    """As Gemma4Processor._process_audio calls it (a list of clips, return_tensors="pt")."""
    out = fe(clips, return_tensors="pt")
    return out["input_features"], out["input_features_mask"]


# ----------------------------------------------------------------------------------------------
# the float64 run

def _patched(cls, replacements):
    """cls.forward with its source text edited (each replacement must occur exactly `count` times)."""
    src = textwrap.dedent(inspect.getsource(cls.forward))
    for old, new, count in replacements:
        assert src.count(old) == count, (cls.__name__, old, src.count(old))
        src = src.replace(old, new)
    ns: dict = {}
    exec(compile(src, modeling_gemma4.__file__, "exec"), modeling_gemma4.__dict__, ns)
    return ns["forward"]


# HF's audio attention casts q/k/v to float32 (`.float()`) and its softmax to float32, so a float64
# model fails there ("expected scalar type Float but found Double": softplus(per_dim_scale) is f64).
# Gemma4RMSNorm likewise computes in float32 (`.float()`) whatever the dtype. For the float64 run the
# audio tower's and embed_audio's modules get the same forward with those casts going to the input's
# dtype instead; the f32 model is untouched.
_F64_ATTENTION = _patched(modeling_gemma4.Gemma4AudioAttention, [
    (".float().view(hidden_shape)", ".to(hidden_states.dtype).view(hidden_shape)", 3),
    ("dtype=torch.float32", "dtype=hidden_states.dtype", 1)])
_F64_RMSNORM = _patched(modeling_gemma4.Gemma4RMSNorm, [(".float()", "", 2)])


def make_audio_f64(model) -> None:
    for part in (model.model.audio_tower, model.model.embed_audio):
        for mod in part.modules():
            if isinstance(mod, modeling_gemma4.Gemma4AudioAttention):
                mod.forward = types.MethodType(_F64_ATTENTION, mod)
            elif isinstance(mod, modeling_gemma4.Gemma4RMSNorm):
                mod.forward = types.MethodType(_F64_RMSNORM, mod)


# ----------------------------------------------------------------------------------------------
# part A: the encoder

class ClampCounter:
    """Counts, over valid rows only, how many values each clipped linear's bounds cut (inputs outside
    [input_min, input_max], pre-clamp outputs outside [output_min, output_max]), per kind of linear."""

    def __init__(self, tower, n: int):
        self.n = n
        self.counts: dict[str, dict[str, int]] = {}
        self.handles = []
        for name, m in tower.named_modules():
            if type(m).__name__ == "Gemma4ClippableLinear" and m.use_clipped_linears:
                kind = name.split(".")[-1]
                self.counts.setdefault(kind, {"inputs": 0, "outputs": 0, "input_values": 0, "output_values": 0})
                self.handles.append(m.register_forward_pre_hook(self._pre(kind)))
                self.handles.append(m.linear.register_forward_hook(self._post(m, kind)))

    def _pre(self, kind):
        def fn(m, a):
            x = a[0][:, :self.n]
            self.counts[kind]["inputs"] += int(((x < m.input_min) | (x > m.input_max)).sum())
            self.counts[kind]["input_values"] += x.numel()
        return fn

    def _post(self, clip, kind):
        def fn(m, a, o):
            o = o[:, :self.n]
            self.counts[kind]["outputs"] += int(((o < clip.output_min) | (o > clip.output_max)).sum())
            self.counts[kind]["output_values"] += o.numel()
        return fn

    def remove(self):
        for h in self.handles:
            h.remove()


def sscp_rows(x: torch.Tensor, n: int) -> torch.Tensor:
    """[B, C, T, F] -> [n * F, C], rows (t, f) with f fastest, valid t < n only, batch 0."""
    x = x[0, :, :n, :]
    return x.permute(1, 2, 0).reshape(n * x.shape[2], x.shape[0]).contiguous()


def run_encoder(model, feats: torch.Tensor, mask: torch.Tensor, frames: int, t1: int, t2: int):
    """Named tensors (valid rows, batch 0) of one forward pass of audio_tower + embed_audio."""
    at = model.model.audio_tower
    dtype = next(model.parameters()).dtype
    feats = feats.to(dtype)
    t: dict[str, torch.Tensor] = {}

    def keep(name, x):
        t[name] = x.detach().clone()

    sscp = at.subsample_conv_projection
    hs = [sscp.layer0.register_forward_hook(lambda m, a, o: keep("sscp_conv0", sscp_rows(o[0], t1))),
          sscp.layer1.register_forward_hook(lambda m, a, o: keep("sscp_conv1", sscp_rows(o[0], t2))),
          sscp.register_forward_hook(lambda m, a, o: keep("sscp_out", o[0][0, :t2]))]
    # The SSCP's output mask (what the layers' attention mask is built from).
    hs.append(sscp.register_forward_hook(lambda m, a, o: keep("_sscp_mask", o[1][0])))
    for i, layer in enumerate(at.layers):
        hs += [layer.feed_forward1.register_forward_hook(lambda m, a, o, i=i: keep(f"a_ffw1-{i}", o[0, :t2])),
               layer.lconv1d.register_forward_pre_hook(lambda m, a, i=i: keep(f"a_attn-{i}", a[0][0, :t2])),
               layer.lconv1d.register_forward_hook(lambda m, a, o, i=i: keep(f"a_lconv-{i}", o[0, :t2])),
               layer.feed_forward2.register_forward_hook(lambda m, a, o, i=i: keep(f"a_ffw2-{i}", o[0, :t2])),
               layer.register_forward_hook(lambda m, a, o, i=i: keep(f"a_out-{i}", o[0, :t2]))]
    hs.append(at.output_proj.register_forward_hook(lambda m, a, o: keep("output_proj", o[0, :t2])))
    try:
        with torch.no_grad():
            out = at(feats, mask, return_dict=True)
            soft = model.model.embed_audio(inputs_embeds=out.last_hidden_state)
    finally:
        for h in hs:
            h.remove()
    # Valid tokens are a prefix of the expected length, and the tower reports the SSCP's mask.
    omask = out.attention_mask[0]
    assert omask.dtype == torch.bool and int(omask.sum()) == t2 and bool(omask[:t2].all()), (omask.sum(), t2)
    assert torch.equal(omask, t.pop("_sscp_mask"))
    assert torch.equal(out.last_hidden_state[0, :t2], t["output_proj"])
    t["soft_tokens"] = soft[0, :t2].clone()
    # The path the full model takes (get_audio_features, then the valid-mask selection of
    # Gemma4Model.forward) gives the same soft tokens.
    with torch.no_grad():
        ga = model.model.get_audio_features(feats, mask, return_dict=True)
    assert torch.equal(ga.pooler_output[ga.attention_mask], t["soft_tokens"]), "get_audio_features differs"
    order = ["features", "sscp_conv0", "sscp_conv1", "sscp_out"]
    for i in range(len(at.layers)):
        order += [f"a_ffw1-{i}", f"a_attn-{i}", f"a_lconv-{i}", f"a_ffw2-{i}", f"a_out-{i}"]
    order += ["output_proj", "soft_tokens"]
    t["features"] = feats[0, :frames].clone()
    return {k: t[k] for k in order}


def max_rel_diff(a: dict, b: dict) -> dict:
    return {k: float((a[k].double() - b[k].double()).abs().max() / b[k].double().abs().max()) for k in a}


def audio_clip_bounds(model) -> dict[str, float]:
    """state_dict name -> value of every clip bound in the audio tower."""
    return {k: float(v) for k, v in model.state_dict().items()
            if k.startswith("model.audio_tower.") and k.rsplit(".", 1)[-1] in
            ("input_min", "input_max", "output_min", "output_max")}


def tight_bounds(model, fe, spec) -> dict[str, float]:
    """Bounds that bite: per clipped linear of the audio tower, the TIGHT_QUANTILES of its valid
    inputs and of its outputs (before the output clamp) in a plain run of the case, rounded to
    1/TIGHT_STEP. Keyed by state_dict name."""
    n, wseed, silence = spec
    feats, mask = extract(fe, [waveform(n, wseed, silence)])
    frames, t1, t2 = expected_counts(n)
    seen: dict[str, list[torch.Tensor]] = {}
    hs = []
    for name, m in model.model.audio_tower.named_modules():
        if type(m).__name__ == "Gemma4ClippableLinear" and m.use_clipped_linears:
            base = f"model.audio_tower.{name}."
            hs.append(m.register_forward_pre_hook(
                lambda mod, a, base=base: seen.setdefault(base + "input", []).append(a[0][0, :t2].flatten())))
            hs.append(m.linear.register_forward_hook(
                lambda mod, a, o, base=base: seen.setdefault(base + "output", []).append(o[0, :t2].flatten())))
    try:
        with torch.no_grad():
            model.model.audio_tower(feats, mask)
    finally:
        for h in hs:
            h.remove()
    out = {}
    for key, xs in seen.items():
        x = torch.cat(xs).double().numpy()
        lo, hi = (float(np.round(np.quantile(x, q) * TIGHT_STEP) / TIGHT_STEP) for q in TIGHT_QUANTILES)
        assert lo < hi
        out[key + "_min"], out[key + "_max"] = lo, hi
    return dict(sorted(out.items()))


def dump_encoder_case(model, model64, fe, variant: str, cmd: list[str], case: str, spec, out: str,
                      reference: dict | None) -> tuple[dict, dict]:
    n, wseed, silence = spec
    wav = waveform(n, wseed, silence)
    feats, mask = extract(fe, [wav])
    frames, t1, t2 = expected_counts(n)
    n_pad = -(-n // 128) * 128
    frames_pad = (n_pad + 160 - 321) // 160 + 1
    m = mask[0]
    assert feats.shape == (1, frames_pad, 128) and feats.dtype == torch.float32, feats.shape
    assert int(m.sum()) == frames and bool(m[:frames].all()), (int(m.sum()), frames)
    assert bool((feats[0, frames:] == 0).all()), "padded frames are not zeroed"

    counter = ClampCounter(model.model.audio_tower, t2)
    try:
        tensors = run_encoder(model, feats, mask, frames, t1, t2)
    finally:
        counter.remove()
    # The padding frames must change nothing: the same valid frames alone, mask all true.
    unpadded = run_encoder(model, feats[:, :frames], mask[:, :frames], frames, t1, t2)
    padding_effect = max_rel_diff(tensors, unpadded)
    assert max(padding_effect.values()) < 1e-5, f"{variant}/{case}: padding changes {padding_effect}"
    t64 = run_encoder(model64, feats, mask, frames, t1, t2)
    f32_error = max_rel_diff(tensors, t64)
    for name, x in tensors.items():
        assert x.dtype == torch.float32 and torch.isfinite(x).all(), name
    if reference is not None:  # e4b: the tiny towers are identical
        for k, v in tensors.items():
            assert torch.equal(v, reference[k]), f"{variant}/{case}: {k} differs from e2b"

    names = stored_names(variant, case, list(tensors))
    stored = {"samples": torch.from_numpy(wav)} | {k: tensors[k] for k in names}
    fname = f"audio_{variant}_{case}.safetensors"
    save_file({k: np.ascontiguousarray(v.numpy()) for k, v in stored.items()}, os.path.join(out, fname))
    clamped_in = sum(c["inputs"] for c in counter.counts.values())
    clamped_out = sum(c["outputs"] for c in counter.counts.values())
    print(f"{variant}/{case}: n {n}, frames {frames} (padded {frames_pad}), T1 {t1}, tokens {t2}, "
          f"f32 error {max(f32_error.values()):.2e}, padding effect {max(padding_effect.values()):.2e}, "
          f"clamped {clamped_in}+{clamped_out}")
    ac = model.model.audio_tower.config
    entry = {
        "file": fname,
        "variant": variant,
        "seed": SEED,
        "make_test_model": " ".join(cmd),
        "case": case,
        "n_samples": n,
        "samples_padded": n_pad,
        "waveform_seed": wseed,
        "silence": list(silence) if silence else None,
        "samples_sum": float(wav.astype(np.float64).sum()),
        "frames": frames,
        "frames_padded": frames_pad,
        "sscp_t1": t1,
        "tokens": t2,
        "tokens_padded": -(-(-(-frames_pad // 2)) // 2),
        "tensors": {k: list(v.shape) for k, v in stored.items()},
        "not_stored": [k for k in tensors if k not in names],
        "max_abs": {k: float(v.abs().max()) for k, v in tensors.items()},
        "f32_error": f32_error,
        "padding_effect": padding_effect,
        "clamped": counter.counts,
        "config": {"hidden_size": ac.hidden_size, "num_hidden_layers": ac.num_hidden_layers,
                   "num_attention_heads": ac.num_attention_heads,
                   "head_dim": ac.hidden_size // ac.num_attention_heads,
                   "subsampling_conv_channels": list(ac.subsampling_conv_channels),
                   "output_proj_dims": ac.output_proj_dims, "attention_chunk_size": ac.attention_chunk_size,
                   "attention_context_left": ac.attention_context_left,
                   "attention_context_right": ac.attention_context_right,
                   "attention_logit_cap": ac.attention_logit_cap, "conv_kernel_size": ac.conv_kernel_size,
                   "residual_weight": ac.residual_weight, "rms_norm_eps": ac.rms_norm_eps,
                   "use_clipped_linears": ac.use_clipped_linears,
                   "text_hidden_size": model.config.text_config.hidden_size},
    }
    return entry, tensors


# ----------------------------------------------------------------------------------------------
# part B: end to end

def make_processor(model_dir: str) -> Gemma4Processor:
    """Built from its parts, as dump_multimodal_reference.py does (the test folder has the processor's
    config and the chat template, not the separate feature-extractor/video files AutoProcessor wants)."""
    with open(os.path.join(model_dir, "processor_config.json")) as f:
        pconf = json.load(f)
    image_config = dict(pconf["image_processor"])
    image_config.pop("image_processor_type", None)
    fe_config = dict(pconf.get("feature_extractor", {}))
    fe_config.pop("feature_extractor_type", None)
    with open(os.path.join(model_dir, "chat_template.jinja")) as f:
        template = f.read()
    return Gemma4Processor(feature_extractor=Gemma4AudioFeatureExtractor(**fe_config),
                           image_processor=Gemma4ImageProcessor(**image_config),
                           tokenizer=AutoTokenizer.from_pretrained(model_dir, extra_special_tokens=MEDIA_TOKENS),
                           video_processor=Gemma4VideoProcessor(), chat_template=template,
                           audio_seq_length=pconf.get("audio_seq_length", 750),
                           audio_ms_per_token=pconf.get("audio_ms_per_token", 40))


def run_e2e(model, processor, clips: list[np.ndarray], question: str):
    content = [{"type": "audio"} for _ in clips] + [{"type": "text", "text": question}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                         tokenize=False)
    inputs = processor(text=text, audio=clips, return_tensors="pt", add_special_tokens=False)
    dtype = next(model.parameters()).dtype
    inputs["input_features"] = inputs["input_features"].to(dtype)
    with torch.no_grad():
        feats = model.model.get_audio_features(inputs["input_features"], inputs["input_features_mask"],
                                               return_dict=True)
        soft = feats.pooler_output[feats.attention_mask]  # what Gemma4Model.forward scatters, in order
        per_clip = [int(x) for x in feats.attention_mask.sum(-1)]
        out = model(**inputs)
        greedy = None
        if dtype == torch.float32:
            gen = model.generate(**inputs, max_new_tokens=16, do_sample=False)
            greedy = gen[0, inputs["input_ids"].shape[1]:].tolist()
        # Each clip encoded alone (no batch padding): what an engine that encodes clips one by one gets.
        alone = []
        for c in clips:
            f, m = extract(processor.feature_extractor, [c])
            g = model.model.get_audio_features(f.to(dtype), m, return_dict=True)
            alone.append(g.pooler_output[g.attention_mask])
    ids = inputs["input_ids"][0].tolist()
    return text, inputs, ids, soft, per_clip, out.logits[0], greedy, torch.cat(alone, dim=0)


def rel_err(a: torch.Tensor, ref: torch.Tensor) -> float:
    return float((a.double() - ref.double()).abs().max() / ref.double().abs().max())


def dump_e2e_case(model, model64, processor, variant: str, cmd: list[str], case: str, spec: dict,
                  out: str) -> dict:
    clips = [waveform(*c) for c in spec["clips"]]
    text, inputs, ids, soft, per_clip, logits, greedy, alone = run_e2e(model, processor, clips, spec["question"])
    text64, _, ids64, soft64, per_clip64, logits64, _, _ = run_e2e(model64, processor, clips, spec["question"])
    assert ids64 == ids and text64 == text and per_clip64 == per_clip
    tok = processor.tokenizer
    boa, eoa, aud = (tok.convert_tokens_to_ids(x) for x in ("<|audio>", "<audio|>", "<|audio|>"))
    expected = [expected_counts(len(c))[2] for c in clips]
    assert per_clip == expected, (per_clip, expected)
    # The template writes <|audio|> with no newline around it; the processor expands each one to
    # <|audio> + N x <|audio|> + <audio|>.
    assert text.count("<|audio|>") == len(clips)
    # (The newline before the first one ends the turn header.)
    assert text == ("<bos><|turn>user\n" + "<|audio|>" * len(clips) + spec["question"]
                    + "<turn|>\n<|turn>model\n"), repr(text)
    starts = [i for i, t in enumerate(ids) if t == boa]
    ends = [i for i, t in enumerate(ids) if t == eoa]
    assert len(starts) == len(ends) == len(clips)
    for s, e, k in zip(starts, ends, expected):
        assert e - s - 1 == k and all(t == aud for t in ids[s + 1:e])
    assert sum(t == aud for t in ids) == sum(expected)
    # The batch's padding (clips padded to the longest) changes the soft tokens by at most f32 noise.
    batch_effect = rel_err(soft, alone)
    assert batch_effect < 1e-5, batch_effect
    positions = ends[:-1] + list(range(ends[-1], len(ids)))
    lg, lg64 = logits[positions], logits64[positions]
    for x in (soft, lg):
        assert torch.isfinite(x).all()
    assert float(lg.abs().max()) <= 30.0
    name = f"multimodal_audio_{variant}_{case}"
    tensors = {f"samples-{i}": c for i, c in enumerate(clips)}
    # The f64 results, rounded to f32 (2^-24 relative: far below the f32 errors measured).
    tensors["soft_tokens_f64"] = soft64.numpy().astype(np.float32)
    tensors["logits_f64"] = lg64.numpy().astype(np.float32)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, os.path.join(out, name + ".safetensors"))
    entry = {
        "file": name + ".safetensors",
        "variant": variant,
        "case": case,
        "make_test_model": " ".join(cmd),
        "clips": [{"n_samples": len(c), "waveform_seed": s[1], "silence": list(s[2]) if s[2] else None,
                   "samples_sum": float(c.astype(np.float64).sum()), "frames": expected_counts(len(c))[0],
                   "audio_tokens": k}
                  for c, s, k in zip(clips, spec["clips"], per_clip)],
        "question": spec["question"],
        "rendered_text": text,
        "input_features_shape": list(inputs["input_features"].shape),
        "input_ids": ids,
        "boa_positions": starts,
        "eoa_positions": ends,
        "logit_positions": positions,
        "greedy": greedy,
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
        "f32_error": {"soft_tokens": rel_err(soft, soft64), "logits": rel_err(lg, lg64)},
        "logits_f32_error_by_position": [rel_err(lg[k], lg64[k]) for k in range(len(positions))],
        "batch_padding_effect": batch_effect,
        "max_abs": {"soft_tokens": float(soft.abs().max()), "logits": float(lg.abs().max())},
    }
    print(f"{name}: {len(ids)} tokens, audio tokens {per_clip}, f32 error {entry['f32_error']}, "
          f"batch effect {batch_effect:.1e}")
    return entry


# ----------------------------------------------------------------------------------------------

def make_model(cli: str, variant: str, out_dir: str) -> list[str]:
    args = ["make-test-model", "--variant", variant, "--format", "safetensors", "--seed", str(SEED), "--out", out_dir]
    subprocess.run([cli, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["gemmadesk-cli", *args[:-1], "DIR"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", default=DEFAULT_CLI, help="path to gemmadesk-cli (default build/release/app/gemmadesk-cli)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default tests/data/reference)")
    ap.add_argument("--work", default=None, help="folder for the test models (default: a temp dir)")
    opts = ap.parse_args()

    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(opts.out, exist_ok=True)
    work = opts.work or tempfile.mkdtemp(prefix="gd-audref-")
    fe = Gemma4AudioFeatureExtractor()  # the defaults, as the processor builds it

    cases, e2e = [], []
    reference: dict[str, dict] = {}
    for variant in VARIANTS:
        model_dir = os.path.join(work, variant)
        cmd = make_model(opts.cli, variant, model_dir)
        model, info = Gemma4ForConditionalGeneration.from_pretrained(
            model_dir, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
        problems = {k: v for k, v in info.items() if v}
        assert not problems, f"{variant}: transformers reports {problems}"
        model.eval()
        model64 = Gemma4ForConditionalGeneration.from_pretrained(
            model_dir, dtype=torch.float64, attn_implementation="eager").eval()
        make_audio_f64(model64)
        for case, spec in CASES.items():
            entry, tensors = dump_encoder_case(model, model64, fe, variant, cmd, case, spec, opts.out,
                                               reference.get(case) if variant != "e2b" else None)
            if variant == "e2b":
                reference[case] = tensors
            cases.append(entry)
        if variant == TIGHT_VARIANT:
            tight = tight_bounds(model, fe, CASES[TIGHT_CASE])
            for m in (model, model64):
                sd = m.state_dict()
                for k, v in tight.items():
                    sd[k].fill_(v)  # buffers: the state_dict shares their storage
            bounds = audio_clip_bounds(model)
            assert bounds == tight and audio_clip_bounds(model64) == tight
            c, _ = dump_encoder_case(model, model64, fe, variant, cmd, TIGHT_CASE + "_tightclip",
                                     CASES[TIGHT_CASE], opts.out, None)
            c["clip_bounds_rule"] = (f"quantiles {TIGHT_QUANTILES} of the valid values each bound sees in the "
                                     f"plain {TIGHT_CASE} run (inputs; outputs before the output clamp), "
                                     f"rounded to a multiple of 1/{int(TIGHT_STEP)}")
            c["clip_bounds"] = bounds
            assert all(k["inputs"] > 0 and k["outputs"] > 0 for k in c["clamped"].values()), c["clamped"]
            cases.append(c)
            del model, model64  # the tightened copies must not leak into part B
            model = Gemma4ForConditionalGeneration.from_pretrained(
                model_dir, dtype=torch.float32, attn_implementation="eager").eval()
            model64 = Gemma4ForConditionalGeneration.from_pretrained(
                model_dir, dtype=torch.float64, attn_implementation="eager").eval()
            make_audio_f64(model64)
        processor = make_processor(model_dir)
        for case, spec in E2E_CASES.items():
            e2e.append(dump_e2e_case(model, model64, processor, variant, cmd, case, spec, opts.out))
        del model, model64

    versions = {"transformers": transformers.__version__, "torch": torch.__version__,
                "safetensors": safetensors.__version__, "numpy": np.__version__}
    doc = {
        "generator": "tools/reference/dump_audio_reference.py",
        "versions": versions,
        "forward": {"dtype": "float32", "attn_implementation": "eager", "device": "cpu", "batch": 1,
                    "feature_extractor": "Gemma4AudioFeatureExtractor() defaults, called as fe([samples])",
                    "padding": "samples padded to a multiple of 128; frames whose last sample is padding "
                               "are invalid (zero features, mask false); only valid rows are stored"},
        "counts": "frames = floor((n - 161) / 160) + 1, T1 = ceil(frames / 2), tokens = ceil(T1 / 2)",
        "cases": cases,
    }
    with open(os.path.join(opts.out, "audio_cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(opts.out, "multimodal_audio_cases.json"), "w") as f:
        json.dump({"generator": "tools/reference/dump_audio_reference.py", "versions": versions,
                   "cases": e2e}, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
