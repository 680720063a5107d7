#!/usr/bin/env python3
"""Checks the files `gemmadesk-cli make-test-model` writes with independent readers:
transformers must load every safetensors test model with no missing or unexpected tensor and run a
forward pass; `tokenizers` must load its tokenizer.json; gguf-py must read the GGUF text and mmproj
files, and their tensors must hold the same values as the safetensors model of the same seed
(through GGUF's conv-layout patch embedding and softplus-ed audio scales).

usage: check_test_models.py GEMMADESK_CLI [WORK_DIR]
Prints one line per check and exits non-zero on the first failure."""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import gguf
from transformers import AutoTokenizer, Gemma4ForConditionalGeneration
from safetensors.numpy import load_file

VARIANTS = ["e2b", "e4b", "26b-a4b", "31b"]


def run(cli, *args):
    subprocess.run([cli, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def gguf_to_hf_values(name, arr, hf_shape):
    """Undo GGUF's storage differences so the array compares with the HF tensor."""
    if name == "v.patch_embd.weight":  # stored [Hv, 3, p, p] -> HF [Hv, (py*p+px)*3 + c]
        return arr.transpose(0, 2, 3, 1).reshape(hf_shape)
    if "per_dim_scale" in name:  # GGUF holds softplus(x)
        return np.log(np.expm1(arr.astype(np.float64))).astype(np.float32).reshape(hf_shape)
    return arr.reshape(hf_shape)


def main():
    cli = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="gd-check-")
    for v in VARIANTS:
        hf_dir = os.path.join(work, f"{v}-hf")
        gguf_path = os.path.join(work, f"{v}.gguf")
        run(cli, "make-test-model", "--variant", v, "--format", "safetensors", "--seed", "5", "--out", hf_dir)
        run(cli, "make-test-model", "--variant", v, "--format", "gguf", "--seed", "5", "--out", gguf_path)

        model, info = Gemma4ForConditionalGeneration.from_pretrained(hf_dir, output_loading_info=True)
        problems = {k: v for k, v in info.items() if v}
        assert not problems, f"{v}: transformers reports {problems}"
        tok = AutoTokenizer.from_pretrained(hf_dir)
        ids = tok("The capital of France is Paris.<|turn>")["input_ids"]
        assert tok.decode(ids) == "The capital of France is Paris.<|turn>", tok.decode(ids)
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids])).logits
        assert torch.isfinite(logits).all() and logits.abs().max() <= 30.0
        print(f"{v}: transformers loads it ({sum(p.numel() for p in model.parameters())} parameters), "
              f"tokenizer round-trips, forward pass finite and soft-capped")

        hf = load_file(os.path.join(hf_dir, "model.safetensors"))
        names = {}  # GGUF name -> HF name, found by equal values
        compared = 0
        for path in (gguf_path, os.path.join(work, f"mmproj-{v}.gguf")):
            if not os.path.exists(path):
                continue
            r = gguf.GGUFReader(path)
            for t in r.tensors:
                if t.tensor_type not in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16):
                    continue
                shape = [int(x) for x in reversed(t.shape)]
                arr = np.array(t.data, dtype=np.float32).reshape(shape)
                hf_match = [k for k, a in hf.items() if a.size == arr.size and k not in names.values()]
                # Pair by value: the element sets are random, so the first value identifies the tensor.
                for k in hf_match:
                    cand = gguf_to_hf_values(t.name, arr, hf[k].shape)
                    if np.allclose(cand, hf[k], rtol=1e-5, atol=1e-6):
                        names[t.name] = k
                        compared += 1
                        break
        expected = len([k for k in hf])
        assert compared == expected, f"{v}: {compared} of {expected} HF tensors found with equal values in the GGUF files"
        print(f"{v}: gguf-py reads the GGUF files; all {compared} tensors equal the safetensors model of the same seed")


if __name__ == "__main__":
    main()
