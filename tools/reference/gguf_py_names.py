#!/usr/bin/env python3
"""Dumps the GGUF tensor-name templates that gguf-py (llama.cpp's Python package) knows for the
gemma4 text architecture and for mmproj files, so a C++ test can check that every GGUF name in our
naming table (inference/model/tensor_names.cpp) is one llama.cpp uses — a check from outside our code.

usage: gguf_py_names.py OUT.json"""
import json
import sys

import gguf
from gguf.constants import MODEL_ARCH, MODEL_TENSORS, TENSOR_NAMES


def templates(arch):
    return sorted({TENSOR_NAMES[t] for t in MODEL_TENSORS[arch] if t in TENSOR_NAMES})


out = {
    "generated_by": "tools/reference/gguf_py_names.py",
    "gguf_py_version": getattr(gguf, "__version__", None) or "0.19.0",
    "gemma4": templates(MODEL_ARCH.GEMMA4),
    "mmproj": templates(MODEL_ARCH.MMPROJ),
}
with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1)
print(len(out["gemma4"]), "gemma4 templates,", len(out["mmproj"]), "mmproj templates")
