#!/usr/bin/env python3
"""Reference activations of the Gemma 4 *text decoder*, taken from Hugging Face transformers.

Transformers is the definition of Gemma 4 for this project.  For each of the four tiny
variants (e2b, e4b, 26b-a4b, 31b) this script

  1. makes a tiny f32 test model with our CLI
     (`gemmadesk-cli make-test-model --variant V --format safetensors --seed 1 --out DIR`),
  2. loads it with Gemma4ForConditionalGeneration.from_pretrained (float32, eval,
     attn_implementation="eager") and AutoTokenizer,
  3. runs one full-sequence forward pass (teacher forcing, no cache) per prompt,
  4. records, with forward hooks only (nothing is re-implemented), named intermediate
     tensors for batch 0 in llama.cpp-style names (see README.md, "dump_decoder_reference.py"),
  5. writes <out>/decoder_<variant>_<prompt>.safetensors (all float32, no batch dim) and
     <out>/decoder_cases.json (inputs, tensor names/shapes, versions, KV sharing, max |x|).

Prompts: "short" = <bos> + "The capital of France is Paris." (11 tokens);
         "long"  = <bos> + a 39-token text (40 tokens > 2 x sliding window 16).

Tensor names (T = tokens, H = hidden, L = layers, P = PLE width, V = vocab):
  inp_scaled        [T, H]     output of language_model.embed_tokens (= E[id] * sqrt(H) in f32)
  per_layer_inputs  [T, L, P]  (E2B/E4B) the per_layer_input each decoder layer receives,
                               = project_per_layer_inputs(...) output, stacked over layers
  attn_out-N        [T, H]     residual after the attention block: input of
                               layers[N].pre_feedforward_layernorm
  ffn_out-N         [T, H]     (E2B/E4B only) residual after the FFN block, before PLE and
                               layer_scalar: attn_out-N + output of
                               layers[N].post_feedforward_layernorm, checked bit-exact against
                               the input of layers[N].per_layer_input_gate.  Not stored for
                               26b-a4b/31b, where l_out-N == ffn_out-N * layer_scalar exactly
                               (checked here).
  l_out-N           [T, H]     output of decoder layer N (after PLE and *= layer_scalar)
  result_norm       [T, H]     output of language_model.norm
  logits            [T, V]     model(...).logits, after the 30*tanh(x/30) softcap

The run is deterministic (single thread, deterministic algorithms): a second run gives
byte-identical files.

Usage (from the repository root):
    /work/venv/bin/python tools/reference/dump_decoder_reference.py
    /work/venv/bin/python tools/reference/dump_decoder_reference.py --cli build/me/app/gemmadesk-cli --out /tmp/x
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
from transformers import AutoTokenizer, Gemma4ForConditionalGeneration

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "reference")
DEFAULT_CLI = os.path.join(REPO_ROOT, "build", "me", "app", "gemmadesk-cli")

VARIANTS = ["e2b", "e4b", "26b-a4b", "31b"]
SEED = 1
PROMPTS = {
    "short": "The capital of France is Paris.",
    # 39 tokens + <bos> = 40 > sliding window 16 (kept short so all files stay under ~4 MB)
    "long": "The quick brown fox jumps over the lazy dog, and the capital of France is Paris.",
}
SOFTCAP = 30.0


def make_model(cli: str, variant: str, out_dir: str) -> list[str]:
    args = ["make-test-model", "--variant", variant, "--format", "safetensors", "--seed", str(SEED), "--out", out_dir]
    subprocess.run([cli, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["gemmadesk-cli", *args[:-1], "DIR"]


def f32(t: torch.Tensor) -> np.ndarray:
    assert t.dtype == torch.float32, t.dtype
    return np.ascontiguousarray(t.detach().cpu().numpy().astype(np.float32, copy=False))


class Recorder:
    """Forward hooks on the text model; every tensor is cloned at capture time."""

    def __init__(self, lm):
        self.lm = lm
        self.t: dict[str, torch.Tensor] = {}
        self.handles = []
        self.ple: dict[int, torch.Tensor] = {}
        self.post_ffn: dict[int, torch.Tensor] = {}
        self.ple_gate_in: dict[int, torch.Tensor] = {}

        self._hook(lm.embed_tokens, lambda m, a, o: self._put("inp_scaled", o))
        for i, layer in enumerate(lm.layers):
            self.handles.append(layer.register_forward_pre_hook(self._layer_pre(i), with_kwargs=True))
            self.handles.append(layer.pre_feedforward_layernorm.register_forward_pre_hook(
                lambda m, a, i=i: self._put(f"attn_out-{i}", a[0])))
            self._hook(layer.post_feedforward_layernorm,
                       lambda m, a, o, i=i: self.post_ffn.__setitem__(i, o[0].detach().clone()))
            if getattr(layer, "hidden_size_per_layer_input", 0):
                self.handles.append(layer.per_layer_input_gate.register_forward_pre_hook(
                    lambda m, a, i=i: self.ple_gate_in.__setitem__(i, a[0][0].detach().clone())))
            self._hook(layer, lambda m, a, o, i=i: self._put(f"l_out-{i}", o))
        self._hook(lm.norm, lambda m, a, o: self._put("result_norm", o))

    def _hook(self, module, fn):
        self.handles.append(module.register_forward_hook(fn))

    def _put(self, name, x):
        assert name not in self.t, f"{name} captured twice"
        x = x[0] if isinstance(x, tuple) else x
        self.t[name] = x[0].detach().clone()  # batch 0

    def _layer_pre(self, i):
        def fn(module, args, kwargs):
            pli = args[1] if len(args) > 1 else kwargs.get("per_layer_input")
            if pli is not None:
                self.ple[i] = pli[0].detach().clone()  # [T, P]
        return fn

    def remove(self):
        for h in self.handles:
            h.remove()


def run_case(model, tok, variant: str, prompt: str, text: str):
    lm = model.model.language_model
    n_layers = len(lm.layers)
    ids = [tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]
    rec = Recorder(lm)
    try:
        with torch.no_grad():
            out = model(input_ids=torch.tensor([ids]), use_cache=False)
    finally:
        rec.remove()
    T = len(ids)
    tensors: dict[str, torch.Tensor] = {"inp_scaled": rec.t["inp_scaled"]}
    if rec.ple:
        assert sorted(rec.ple) == list(range(n_layers))
        tensors["per_layer_inputs"] = torch.stack([rec.ple[i] for i in range(n_layers)], dim=1)  # [T, L, P]
    for i in range(n_layers):
        attn = rec.t[f"attn_out-{i}"]
        tensors[f"attn_out-{i}"] = attn
        ffn = attn + rec.post_ffn[i]  # the same f32 add as `hidden_states = residual + hidden_states`
        if i in rec.ple_gate_in:
            assert torch.equal(ffn, rec.ple_gate_in[i]), f"{variant}/{prompt}: ffn_out-{i} != per_layer_input_gate input"
            tensors[f"ffn_out-{i}"] = ffn
        else:
            # No PLE branch: the layer output is ffn_out * layer_scalar, computed in place.
            assert torch.equal(ffn * lm.layers[i].layer_scalar, rec.t[f"l_out-{i}"]), f"ffn_out-{i}"
        tensors[f"l_out-{i}"] = rec.t[f"l_out-{i}"]
    tensors["result_norm"] = rec.t["result_norm"]
    tensors["logits"] = out.logits[0].detach().clone()

    # ---- sanity checks ----
    logits = tensors["logits"]
    assert logits.shape == (T, lm.config.vocab_size), logits.shape
    assert torch.isfinite(logits).all(), f"{variant}/{prompt}: non-finite logits"
    assert logits.abs().max() <= SOFTCAP, f"{variant}/{prompt}: |logits| > softcap"
    for name, x in tensors.items():
        assert x.dtype in (torch.float32, torch.float64) and torch.isfinite(x).all(), name
    with torch.no_grad():
        renorm = lm.norm(tensors[f"l_out-{n_layers - 1}"])
        assert torch.equal(renorm, tensors["result_norm"]), "norm(l_out-last) != result_norm"
        raw = model.lm_head(tensors["result_norm"])
        relogit = torch.tanh(raw / SOFTCAP) * SOFTCAP
        assert torch.equal(relogit, logits), "softcap(lm_head(result_norm)) != logits"
        # first layer input is inp_scaled (no PLE / other transform in between)
        assert torch.equal(lm.embed_tokens(torch.tensor(ids)), tensors["inp_scaled"])
    return ids, tensors, float(raw.abs().max())


GREEDY_STEPS = 16


def greedy_continuation(model, ids: list[int]) -> dict:
    """GREEDY_STEPS greedy tokens from model.generate (the cached, incremental path), with each
    step's margin (top-1 minus top-2 softcapped logit): a step whose margin is within f32 noise
    may legitimately differ, so tests compare only up to the first such step."""
    with torch.no_grad():
        out = model.generate(input_ids=torch.tensor([ids]), max_new_tokens=GREEDY_STEPS, do_sample=False,
                             output_logits=True, return_dict_in_generate=True, eos_token_id=None, pad_token_id=0)
    new_ids = out.sequences[0, len(ids):].tolist()
    margins = []
    for step in out.logits:
        top2 = torch.topk(step[0].float(), 2).values
        margins.append(float(top2[0] - top2[1]))
    return {"ids": new_ids, "margins": margins, "steps": GREEDY_STEPS}


def kv_sharing(lm) -> list[dict]:
    cfg = lm.config
    out = []
    for i, layer in enumerate(lm.layers):
        a = layer.self_attn
        mode = cfg.kv_sharing_modes[i]
        donor = None
        if a.is_kv_shared_layer:
            donor = max(j for j in range(i) if cfg.layer_types[j] == cfg.layer_types[i] and lm.layers[j].self_attn.store_full_length_kv)
        out.append({"layer": i, "type": cfg.layer_types[i], "kv_sharing_mode": mode, "kv_donor": donor,
                    "head_dim": a.head_dim, "sliding_window": a.sliding_window,
                    "layer_scalar": float(layer.layer_scalar)})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", default=DEFAULT_CLI, help="path to gemmadesk-cli (default build/me/app/gemmadesk-cli)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default tests/data/reference)")
    ap.add_argument("--work", default=None, help="folder for the test models (default: a temp dir)")
    opts = ap.parse_args()

    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    os.makedirs(opts.out, exist_ok=True)
    work = opts.work or tempfile.mkdtemp(prefix="gd-decref-")

    cases = []
    for variant in VARIANTS:
        model_dir = os.path.join(work, variant)
        cmd = make_model(opts.cli, variant, model_dir)
        model, info = Gemma4ForConditionalGeneration.from_pretrained(
            model_dir, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
        problems = {k: v for k, v in info.items() if v}
        assert not problems, f"{variant}: transformers reports {problems}"
        model.eval()
        tok = AutoTokenizer.from_pretrained(model_dir)
        lm = model.model.language_model
        cfg = lm.config
        layers = kv_sharing(lm)
        # The same model in float64: the f32 reference's own rounding error per tensor, from which
        # the C++ tests derive their tolerances (two f32 computations differ by about the sum of
        # their errors against the exact result).
        model64 = Gemma4ForConditionalGeneration.from_pretrained(
            model_dir, dtype=torch.float64, attn_implementation="eager", experts_implementation="eager").eval()
        if variant == "e2b":
            shared = [d["layer"] for d in layers if d["kv_sharing_mode"] == "reuse"]
            assert shared == list(range(5, cfg.num_hidden_layers)), f"e2b shared layers {shared}"
        for prompt, text in PROMPTS.items():
            ids, tensors, raw_max = run_case(model, tok, variant, prompt, text)
            ids64, tensors64, _ = run_case(model64, tok, variant, prompt, text)
            assert ids64 == ids and tensors64.keys() == tensors.keys()
            f32_error = {k: float((tensors[k].double() - tensors64[k]).abs().max() / tensors64[k].abs().max())
                         for k in tensors}
            greedy = greedy_continuation(model, ids)
            if prompt == "long":
                assert len(ids) > cfg.sliding_window, "long prompt must exceed the sliding window"
            fname = f"decoder_{variant}_{prompt}.safetensors"
            arrays = {k: f32(v) for k, v in tensors.items()}
            save_file(arrays, os.path.join(opts.out, fname))
            hidden = [k for k in tensors if k not in ("logits", "per_layer_inputs")]
            cases.append({
                "file": fname,
                "variant": variant,
                "seed": SEED,
                "make_test_model": " ".join(cmd),
                "prompt": prompt,
                "text": text,
                "bos_prepended": True,
                "input_ids": ids,
                "n_tokens": len(ids),
                "tensors": {k: list(v.shape) for k, v in tensors.items()},
                "max_abs": {
                    "logits": float(tensors["logits"].abs().max()),
                    "logits_before_softcap": raw_max,
                    "hidden_states": max(float(tensors[k].abs().max()) for k in hidden),
                    "result_norm": float(tensors["result_norm"].abs().max()),
                    **({"per_layer_inputs": float(tensors["per_layer_inputs"].abs().max())}
                       if "per_layer_inputs" in tensors else {}),
                },
                "config": {
                    "num_hidden_layers": cfg.num_hidden_layers,
                    "hidden_size": cfg.hidden_size,
                    "vocab_size": cfg.vocab_size,
                    "sliding_window": cfg.sliding_window,
                    "hidden_size_per_layer_input": cfg.hidden_size_per_layer_input,
                    "num_kv_shared_layers": cfg.num_kv_shared_layers,
                    "first_kv_shared_layer": cfg.num_hidden_layers - cfg.num_kv_shared_layers,
                    "enable_moe_block": cfg.enable_moe_block,
                    "attention_k_eq_v": cfg.attention_k_eq_v,
                    "final_logit_softcapping": cfg.final_logit_softcapping,
                    "rms_norm_eps": cfg.rms_norm_eps,
                },
                "layers": layers,
                "f32_error": f32_error,
                "greedy": greedy,
            })
            print(f"{variant}/{prompt}: T={len(ids)}, {len(tensors)} tensors, "
                  f"max|logits|={cases[-1]['max_abs']['logits']:.4f}, "
                  f"max|hidden|={cases[-1]['max_abs']['hidden_states']:.4f}")
        del model, model64

    doc = {
        "generator": "tools/reference/dump_decoder_reference.py",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "safetensors": safetensors.__version__, "numpy": np.__version__},
        "forward": {"dtype": "float32", "attn_implementation": "eager", "device": "cpu",
                    "use_cache": False, "batch": 1, "position_ids": "0..T-1"},
        "cases": cases,
    }
    with open(os.path.join(opts.out, "decoder_cases.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
