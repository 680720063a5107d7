#!/usr/bin/env python3
"""Reference activations of the Gemma 4 *vision tower*, taken from Hugging Face transformers.

For each of the four tiny variants (e2b, e4b, 26b-a4b, 31b) this script

  1. makes a tiny f32 test model with our CLI
     (`gemmadesk-cli make-test-model --variant V --format safetensors --seed 1 --out DIR`),
  2. loads it with Gemma4ForConditionalGeneration.from_pretrained (float32, eval,
     attn_implementation="eager"),
  3. for each image case feeds deterministic pixel values straight to the vision tower, padded to
     the budget's patch count as the image processor pads them (zero pixels, position (-1, -1)),
     then the embedder,
  4. records, with forward hooks only, named tensors for the image's real patches,
  5. writes <out>/vision_<variant>_<case>.safetensors (float32) and <out>/vision_cases.json.

The pixels are a formula the C++ tests compute too (no pixel data in the files):
    value(row, col, c) = ((col*37 + row*91 + c*53 + ((col*row) % 29)*7) % 256) / 255   (float32 division)
over an image of grid_h*16 rows and grid_w*16 columns, cut into 16x16 patches in raster order, each
patch flattened (py, px, c) with the channel fastest, positions (x, y) = (patch column, patch row).

Tensor names (N = patches, Hv = tower width, H = text width, T = N / 9 soft tokens):
  patch_embd   [N, Hv]  output of vision_tower.patch_embedder: input_proj(2x-1) + pos_x + pos_y
  v_out-L      [N, Hv]  output of vision_tower.encoder.layers[L]
  pooled       [T, Hv]  vision_tower(...).last_hidden_state: 3x3 average, * sqrt(Hv), standardised
                        (26b-a4b/31b), padding tokens dropped
  soft_tokens  [T, H]   embed_vision(pooled)

The run is deterministic (single thread, deterministic algorithms).

Usage (from the repository root):
    /work/venv/bin/python tools/reference/dump_vision_reference.py
    /work/venv/bin/python tools/reference/dump_vision_reference.py --cli build/release/app/gemmadesk-cli --out /tmp/x
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import safetensors
import torch

import transformers
from safetensors.numpy import save_file
from transformers import Gemma4ForConditionalGeneration

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "reference")
DEFAULT_CLI = os.path.join(REPO_ROOT, "build", "release", "app", "gemmadesk-cli")

VARIANTS = ["e2b", "e4b", "26b-a4b", "31b"]
SEED = 1
PATCH = 16
POOL = 3
BUDGETS = [70, 140, 280, 560, 1120]
# name -> (grid_w, grid_h) in patches. "large" is a budget-280 image (256 soft tokens).
CASES = {"3x3": (3, 3), "6x9": (6, 9), "12x6": (12, 6), "48x48": (48, 48)}
# e2b/e4b (and 26b-a4b/31b) have the same tiny tower with the same weights (the test models' values
# depend only on the seed and the tensor name), so the large case's per-patch tensors are stored for
# one variant of each tower only; the others keep its pooled and soft tokens. This keeps the files
# under 3 MB.
LARGE_CASE = "48x48"
LARGE_FULL = {"e2b", "26b-a4b"}
# One extra case with the clipped linears' output bounds tightened (see main()).
TIGHT_VARIANT = "e2b"
TIGHT_GRID = "12x6"
TIGHT_DIVISOR = 8.0


def make_model(cli: str, variant: str, out_dir: str) -> list[str]:
    args = ["make-test-model", "--variant", variant, "--format", "safetensors", "--seed", str(SEED), "--out", out_dir]
    subprocess.run([cli, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["gemmadesk-cli", *args[:-1], "DIR"]


def pixels(grid_w: int, grid_h: int) -> np.ndarray:
    """[N, 768] float32 patches of the formula image, raster order, (py, px, c) channel fastest."""
    rows = np.arange(grid_h * PATCH, dtype=np.int64)[:, None, None]
    cols = np.arange(grid_w * PATCH, dtype=np.int64)[None, :, None]
    ch = np.arange(3, dtype=np.int64)[None, None, :]
    v = (cols * 37 + rows * 91 + ch * 53 + ((cols * rows) % 29) * 7) % 256
    img = v.astype(np.float32) / np.float32(255.0)  # [H, W, 3]
    p = img.reshape(grid_h, PATCH, grid_w, PATCH, 3).transpose(0, 2, 1, 3, 4)  # [gy, gx, py, px, c]
    return np.ascontiguousarray(p.reshape(grid_h * grid_w, PATCH * PATCH * 3))


def positions(grid_w: int, grid_h: int) -> np.ndarray:
    ys, xs = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
    return np.stack([xs.reshape(-1), ys.reshape(-1)], axis=-1).astype(np.int64)  # [N, 2] (x, y)


def budget_for(tokens: int) -> int:
    return next(b for b in BUDGETS if b >= tokens)


def inputs(grid_w: int, grid_h: int, max_patches: int, dtype: torch.dtype):
    """pixel_values [1, max_patches, 768] and image_position_ids [1, max_patches, 2], padded like the
    image processor pads (zero pixels, position -1)."""
    n = grid_w * grid_h
    pv = np.zeros((max_patches, PATCH * PATCH * 3), dtype=np.float32)
    pv[:n] = pixels(grid_w, grid_h)
    pos = np.full((max_patches, 2), -1, dtype=np.int64)
    pos[:n] = positions(grid_w, grid_h)
    return torch.from_numpy(pv)[None].to(dtype), torch.from_numpy(pos)[None]


class ClampCounter:
    """Counts how many values each clipped linear's bounds actually cut (so a test that skips the
    clamps would fail): inputs outside [input_min, input_max], pre-clamp outputs outside
    [output_min, output_max]."""

    def __init__(self, tower, n: int):
        self.n = n  # real patches: padding rows are left out of the counts
        self.inputs = 0
        self.outputs = 0
        self.handles = []
        for m in tower.modules():
            if type(m).__name__ == "Gemma4ClippableLinear" and m.use_clipped_linears:
                self.handles.append(m.register_forward_pre_hook(self._pre))
                self.handles.append(m.linear.register_forward_hook(self._post(m)))

    def _pre(self, m, a):
        x = a[0][:, :self.n]
        self.inputs += int(((x < m.input_min) | (x > m.input_max)).sum())

    def _post(self, clip):
        def fn(m, a, o):
            o = o[:, :self.n]
            self.outputs += int(((o < clip.output_min) | (o > clip.output_max)).sum())
        return fn

    def remove(self):
        for h in self.handles:
            h.remove()


def run_case(model, grid_w: int, grid_h: int, max_patches: int):
    """Named tensors (real patches / tokens only, batch 0) for one padded forward pass."""
    vt = model.model.vision_tower
    n = grid_w * grid_h
    dtype = next(model.parameters()).dtype
    pv, pos = inputs(grid_w, grid_h, max_patches, dtype)
    t: dict[str, torch.Tensor] = {}
    handles = [vt.patch_embedder.register_forward_hook(lambda m, a, o: t.__setitem__("patch_embd", o[0, :n].clone()))]
    for i, layer in enumerate(vt.encoder.layers):
        handles.append(layer.register_forward_hook(
            lambda m, a, o, i=i: t.__setitem__(f"v_out-{i}", (o[0] if isinstance(o, tuple) else o)[0, :n].clone())))
    try:
        with torch.no_grad():
            pooled = vt(pixel_values=pv, pixel_position_ids=pos).last_hidden_state
            soft = model.model.embed_vision(inputs_embeds=pooled)
            # The path the full model takes (get_image_features) gives the same soft tokens.
            feats = model.model.get_image_features(pixel_values=pv, image_position_ids=pos).pooler_output
    finally:
        for h in handles:
            h.remove()
    assert pooled.shape == (n // (POOL * POOL), vt.config.hidden_size), pooled.shape
    assert len(feats) == 1 and torch.equal(feats[0], soft), "get_image_features differs from tower + embedder"
    t["pooled"] = pooled.clone()
    t["soft_tokens"] = soft.clone()
    return t


def max_rel_diff(a: dict, b: dict) -> dict:
    return {k: float((a[k].double() - b[k].double()).abs().max() / b[k].double().abs().max()) for k in a}


def dump_case(model, model64, variant: str, cmd: list[str], case: str, gw: int, gh: int, out: str) -> dict:
    """Runs one image through the f32 model (padded and unpadded) and the f64 model, writes the
    case's file and returns its vision_cases.json entry."""
    vc = model.model.vision_tower.config
    n = gw * gh
    tokens = n // (POOL * POOL)
    budget = budget_for(tokens)
    max_patches = POOL * POOL * budget
    counter = ClampCounter(model.model.vision_tower, n)
    try:
        tensors = run_case(model, gw, gh, max_patches)
    finally:
        counter.remove()
    # Padding must change nothing: the same image without padding rows.
    unpadded = run_case(model, gw, gh, n)
    padding_effect = max_rel_diff(tensors, unpadded)
    assert max(padding_effect.values()) < 1e-5, f"{variant}/{case}: padding changes {padding_effect}"
    t64 = run_case(model64, gw, gh, max_patches)
    f32_error = max_rel_diff(tensors, t64)
    for name, x in tensors.items():
        assert x.dtype == torch.float32 and torch.isfinite(x).all(), name
    stored = tensors
    if case == LARGE_CASE and variant not in LARGE_FULL:
        stored = {k: v for k, v in tensors.items() if k in ("pooled", "soft_tokens")}
    fname = f"vision_{variant}_{case}.safetensors"
    save_file({k: np.ascontiguousarray(v.numpy()) for k, v in stored.items()}, os.path.join(out, fname))
    print(f"{variant}/{case}: {n} patches (padded to {max_patches}), {tokens} tokens, "
          f"f32 error {max(f32_error.values()):.2e}, padding effect {max(padding_effect.values()):.2e}, "
          f"clamped {counter.inputs}+{counter.outputs}")
    return {
        "file": fname,
        "variant": variant,
        "seed": SEED,
        "make_test_model": " ".join(cmd),
        "case": case,
        "grid_w": gw,
        "grid_h": gh,
        "patches": n,
        "soft_tokens": tokens,
        "budget": budget,
        "max_patches": max_patches,
        "pixel_sum": float(pixels(gw, gh).astype(np.float64).sum()),
        "tensors": {k: list(v.shape) for k, v in stored.items()},
        "not_stored": sorted(set(tensors) - set(stored)),
        "max_abs": {k: float(v.abs().max()) for k, v in tensors.items()},
        "f32_error": f32_error,
        "padding_effect": padding_effect,
        "clamped": {"inputs": counter.inputs, "outputs": counter.outputs},
        "config": {"hidden_size": vc.hidden_size, "num_hidden_layers": vc.num_hidden_layers,
                   "num_attention_heads": vc.num_attention_heads, "head_dim": vc.head_dim,
                   "use_clipped_linears": vc.use_clipped_linears, "standardize": vc.standardize,
                   "position_embedding_size": vc.position_embedding_size,
                   "text_hidden_size": model.config.text_config.hidden_size},
    }


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
    work = opts.work or tempfile.mkdtemp(prefix="gd-visref-")

    cases = []
    for variant in VARIANTS:
        model_dir = os.path.join(work, variant)
        cmd = make_model(opts.cli, variant, model_dir)
        model, info = Gemma4ForConditionalGeneration.from_pretrained(
            model_dir, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
        problems = {k: v for k, v in info.items() if v}
        assert not problems, f"{variant}: transformers reports {problems}"
        model.eval()
        # The same model in float64: the f32 reference's own rounding error per tensor, from which
        # the C++ tests derive their tolerances.
        model64 = Gemma4ForConditionalGeneration.from_pretrained(
            model_dir, dtype=torch.float64, attn_implementation="eager", experts_implementation="eager").eval()
        for case, (gw, gh) in CASES.items():
            cases.append(dump_case(model, model64, variant, cmd, case, gw, gh, opts.out))
        if variant == TIGHT_VARIANT:
            # The test models' output bounds (|x| in [4, 10]) are never reached by activations of
            # unit size, so one case divides them by TIGHT_DIVISOR (exact in binary) to make every
            # output clamp bite. The C++ test rewrites its copy of the model the same way.
            for m in (model, model64):
                for mod in m.model.vision_tower.modules():
                    if type(mod).__name__ == "Gemma4ClippableLinear" and mod.use_clipped_linears:
                        mod.output_min.div_(TIGHT_DIVISOR)
                        mod.output_max.div_(TIGHT_DIVISOR)
            gw, gh = CASES[TIGHT_GRID]
            c = dump_case(model, model64, variant, cmd, TIGHT_GRID + "_tightclip", gw, gh, opts.out)
            c["output_bounds_divided_by"] = TIGHT_DIVISOR
            assert c["clamped"]["outputs"] > 0
            cases.append(c)
        del model, model64

    doc = {
        "generator": "tools/reference/dump_vision_reference.py",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
        "forward": {"dtype": "float32", "attn_implementation": "eager", "device": "cpu", "batch": 1,
                    "padding": "pixel_values padded to 9 * budget patches with zeros, positions -1"},
        "pixels": "((col*37 + row*91 + c*53 + ((col*row) % 29)*7) % 256) / 255 in float32",
        "cases": cases,
    }
    with open(os.path.join(opts.out, "vision_cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
