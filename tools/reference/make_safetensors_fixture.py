#!/usr/bin/env python3
"""Writes tests/data/safetensors/python_reference.safetensors with the official `safetensors` library
(the reference the C++ reader and writer are checked against), and python_reference.json describing
what it holds: for each tensor its dtype, shape and data as hex. Also writes the tiny weights of the
hand-written Hugging Face folder tests/data/safetensors/hf_folder/model.safetensors.

Run once with a Python that has safetensors, numpy and torch (torch only for bfloat16):
    /work/venv/bin/python tools/reference/make_safetensors_fixture.py
The output is deterministic (no random data; a single metadata key so the header order is fixed).
"""
import json
import os
import sys

import numpy as np
import safetensors
import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "..", "tests", "data", "safetensors")


def ramp(n, dtype):
    return np.arange(n, dtype=np.float64).astype(dtype)


def build():
    t = {}
    t["f64.matrix"] = torch.from_numpy(np.array([[1.0, -2.5], [1e300, -0.0]], dtype=np.float64))
    t["f32.vector"] = torch.from_numpy(np.array([0.5, -1.0, 3.25e-5], dtype=np.float32))
    t["f32.scalar"] = torch.tensor(42.0, dtype=torch.float32)
    t["f32.empty"] = torch.zeros((0, 3), dtype=torch.float32)
    t["f16.block"] = torch.from_numpy(ramp(6, np.float16).reshape(2, 3) - 2)
    t["bf16.norm"] = torch.tensor([1.0, -0.5, 3.140625, 65280.0], dtype=torch.bfloat16)
    t["i64.ids"] = torch.from_numpy(np.array([-(2**62), 2**40 + 7], dtype=np.int64))
    t["i32.pair"] = torch.from_numpy(np.array([[-7, 123456789]], dtype=np.int32))
    t["i16.small"] = torch.from_numpy(np.array([-32768, 0, 32767], dtype=np.int16))
    t["i8.bytes"] = torch.from_numpy(np.array([-128, -1, 0, 127], dtype=np.int8))
    t["u8.bytes"] = torch.from_numpy(np.array([0, 1, 2, 254, 255], dtype=np.uint8))
    t["bool.mask"] = torch.from_numpy(np.array([True, False, True]))
    t["u16.vals"] = torch.from_numpy(np.array([1, 65535], dtype=np.uint16))
    t["u32.vals"] = torch.from_numpy(np.array([4000000000, 5], dtype=np.uint32))
    t["u64.vals"] = torch.from_numpy(np.array([2**64 - 1], dtype=np.uint64))
    t["model.language_model.layers.0.layer_scalar"] = torch.tensor([0.75], dtype=torch.bfloat16)
    return t


def dtype_name(tensor):
    return {
        torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
        torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
        torch.uint8: "U8", torch.bool: "BOOL", torch.uint16: "U16", torch.uint32: "U32",
        torch.uint64: "U64",
    }[tensor.dtype]


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    tensors = build()
    path = os.path.join(OUT_DIR, "python_reference.safetensors")
    save_file(tensors, path, metadata={"format": "pt"})
    desc = {
        "made_by": f"safetensors {safetensors.__version__}, torch {torch.__version__}, numpy {np.__version__}",
        "metadata": {"format": "pt"},
        "tensors": {},
    }
    for name, tensor in tensors.items():
        raw = tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if tensor.numel() else b""
        desc["tensors"][name] = {"dtype": dtype_name(tensor), "shape": list(tensor.shape), "hex": raw.hex()}
    with open(os.path.join(OUT_DIR, "python_reference.json"), "w") as f:
        json.dump(desc, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes", file=sys.stderr)

    # Tiny Gemma 4-named weights for hf_folder/ (hidden size 4, vocabulary 8, one layer).
    hf = os.path.join(OUT_DIR, "hf_folder")
    os.makedirs(hf, exist_ok=True)
    p = "model.language_model."
    weights = {
        p + "embed_tokens.weight": (torch.arange(32, dtype=torch.float32).reshape(8, 4) / 8).to(torch.bfloat16),
        p + "norm.weight": torch.ones(4, dtype=torch.bfloat16),
        p + "layers.0.input_layernorm.weight": torch.full((4,), 0.5, dtype=torch.bfloat16),
        p + "layers.0.layer_scalar": torch.tensor([0.25], dtype=torch.bfloat16),
    }
    save_file(weights, os.path.join(hf, "model.safetensors"), metadata={"format": "pt"})


if __name__ == "__main__":
    main()
