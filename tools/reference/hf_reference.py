#!/usr/bin/env python3
"""Ground truth for Gemma 4 model *structure*, taken from Hugging Face transformers.

Transformers is the definition of Gemma 4 for this project.  This script asks the
installed transformers (Gemma4Config / Gemma4ForConditionalGeneration) what the
model looks like and writes it down, so the C++ side can be checked against it:

  1. FULL variants (e2b, e4b, 26b-a4b, 31b), configured exactly like the published
     checkpoints (values from transformers' own Orbax->HF converter,
     convert_gemma4_weights.py, and spec §1.1/§2.1/§3.1/§4.1).  The model is built on
     the meta device (no memory).  Output: <out>/<variant>_full.json

  2. TINY variants (same four names) with toy shapes that mirror the full
     structure; our C++ make-test-model produces the same shapes.
     Output: <out>/<variant>_tiny.json

  3. Two real tiny checkpoints written by `save_pretrained` (float32, random init,
     seed 0, with realistic non-trivial values written into scalars, clip bounds,
     norms, ...; see `_make_values_nontrivial`):
         <out>/e2b_tiny_hf/       config.json, generation_config.json, model.safetensors
         <out>/26b-a4b_tiny_hf/   idem

Each JSON holds:
  * "config": the config exactly as transformers serialises it (`config.to_dict()`),
  * "derived": per-layer geometry read back from the instantiated modules
    (head dim, KV heads, KV-sharing mode and donor layer, which projections exist,
    MLP width, ...),
  * "state_dict": every state_dict entry in state_dict order: name, shape, dtype,
    kind ("parameter" or "buffer"), numel, and for the tied LM head `tied_to`
    (save_pretrained does not write tied entries),
  * "non_persistent_buffers": buffers that are NOT in the state_dict (computed at
    run time: RoPE inv_freq, embed scales, ...),
  * "parameter_counts": parameters per part (see PARTS), text total, grand total,
  * "buffer_counts": numel of the persistent buffers per part,
  * for FULL variants "spec_7_1": the spec §7.1 table and the comparison with it.

The run is deterministic: same transformers/torch -> byte-identical outputs.

Usage (from the repository root):
    /work/venv/bin/python tools/reference/hf_reference.py            # everything
    /work/venv/bin/python tools/reference/hf_reference.py --only full
    /work/venv/bin/python tools/reference/hf_reference.py --only tiny --only ckpt
    /work/venv/bin/python tools/reference/hf_reference.py --out /tmp/x
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import re
import shutil
import sys
from collections import OrderedDict

import torch

import transformers
from transformers import (
    Gemma4AudioConfig,
    Gemma4Config,
    Gemma4ForConditionalGeneration,
    Gemma4TextConfig,
    Gemma4VisionConfig,
    GenerationConfig,
)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "hf_reference")

S = "sliding_attention"
F = "full_attention"

# ------------------------------------------------------------------------------------
# Shared pieces of configuration
# ------------------------------------------------------------------------------------

# RoPE per layer type, as published (spec §1.1 / §2.6.3; converter `_ROPE_PARAMS`).
ROPE_PARAMETERS = {
    "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1_000_000.0},
    "sliding_attention": {"rope_type": "default", "rope_theta": 10_000.0},
}

# Vision RoPE: transformers calls it "axial" (2-D), theta 100.  This is what
# Gemma4VisionConfig produces by default; we spell it out so the JSON does not depend
# on a default.
VISION_ROPE_PARAMETERS = {"rope_type": "axial", "rope_theta": 100.0}

# Top-level token ids of the published checkpoints (spec §2.1, converter main()).
# `eoa_token_index` is the dataclass field; the converter additionally sets
# `eoa_token_id` (an extra attribute that is serialised as well).
FULL_TOKEN_IDS = dict(
    boi_token_id=255_999,
    eoi_token_id=258_882,
    image_token_id=258_880,
    video_token_id=258_884,
    boa_token_id=256_000,
    eoa_token_index=258_883,
    eoa_token_id=258_883,
    audio_token_id=258_881,
    eos_token_id=[1, 106],  # IT checkpoints: <eos>, <turn|>
)

# Tiny vocabulary: the special tokens occupy ids 0..23 in this order.
TINY_SPECIAL_TOKENS = [
    "<pad>", "<eos>", "<bos>", "<unk>", "<mask>",
    "<|turn>", "<turn|>", "<|think|>", "<|channel>", "<channel|>",
    "<|tool>", "<tool|>", "<|tool_call>", "<tool_call|>", "<|tool_response>", "<tool_response|>",
    '<|"|>', "<|image>", "<image|>", "<|audio>", "<audio|>",
    "<|image|>", "<|audio|>", "<|video|>",
]  # fmt: skip
_TID = {tok: i for i, tok in enumerate(TINY_SPECIAL_TOKENS)}
TINY_TOKEN_IDS = dict(
    boi_token_id=_TID["<|image>"],          # 17
    eoi_token_id=_TID["<image|>"],          # 18
    image_token_id=_TID["<|image|>"],       # 21
    video_token_id=_TID["<|video|>"],       # 23
    boa_token_id=_TID["<|audio>"],          # 19
    eoa_token_index=_TID["<audio|>"],       # 20
    eoa_token_id=_TID["<audio|>"],          # 20
    audio_token_id=_TID["<|audio|>"],       # 22
    eos_token_id=[_TID["<eos>"], _TID["<turn|>"]],  # [1, 6]
)  # fmt: skip


def _build_config(text: dict, vision: dict | None, audio: dict | None, top: dict, dtype: str | None) -> Gemma4Config:
    """Build a Gemma4Config the way the converter does: explicit sub-config objects."""
    text_config = Gemma4TextConfig(**copy.deepcopy(text))
    vision_config = Gemma4VisionConfig(**copy.deepcopy(vision)) if vision is not None else None
    audio_config = Gemma4AudioConfig(**copy.deepcopy(audio)) if audio is not None else None
    config = Gemma4Config(
        text_config=text_config,
        vision_config=vision_config,
        audio_config=audio_config,
        **copy.deepcopy(top),
    )
    if dtype is not None:
        # The converter stores every tower in bfloat16 and sets the sub-config dtypes.
        torch_dtype = getattr(torch, dtype)
        config.dtype = torch_dtype
        for sub in (config.text_config, config.vision_config, config.audio_config):
            if sub is not None:
                sub.dtype = torch_dtype
    return config


# ------------------------------------------------------------------------------------
# FULL variants (published checkpoints)
# ------------------------------------------------------------------------------------

# Vision towers, from the converter (`_ON_DEVICE_VISION_CONFIG`, `_LARGE_MODEL_VISION_CONFIG`).
# `global_head_dim` and `default_output_length` are not Gemma4VisionConfig fields; the
# converter passes them anyway, so they end up as extra attributes in config.json.
VISION_FULL_SMALL = dict(
    hidden_size=768, intermediate_size=3072, num_hidden_layers=16,
    num_attention_heads=12, num_key_value_heads=12, head_dim=64, global_head_dim=64,
    default_output_length=280, pooling_kernel_size=3, patch_size=16, position_embedding_size=10240,
    rope_parameters=VISION_ROPE_PARAMETERS, use_clipped_linears=True, standardize=False,
)  # fmt: skip
VISION_FULL_LARGE = dict(
    hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
    num_attention_heads=16, num_key_value_heads=16, head_dim=72, global_head_dim=72,
    default_output_length=280, pooling_kernel_size=3, patch_size=16, position_embedding_size=10240,
    rope_parameters=VISION_ROPE_PARAMETERS, use_clipped_linears=False, standardize=True,
)  # fmt: skip
# Audio tower: the converter uses Gemma4AudioConfig() defaults (spec §4.1).
AUDIO_FULL = dict(
    hidden_size=1024, num_hidden_layers=12, num_attention_heads=8, hidden_act="silu",
    subsampling_conv_channels=[128, 32], conv_kernel_size=5, residual_weight=0.5,
    attention_chunk_size=12, attention_context_left=13, attention_context_right=0,
    attention_logit_cap=50.0, attention_invalid_logits_value=-1.0e9, use_clipped_linears=True,
    rms_norm_eps=1e-6, gradient_clipping=1e10, output_proj_dims=1536,
)  # fmt: skip

TEXT_FULL_COMMON = dict(
    vocab_size=262_144, vocab_size_per_layer_input=262_144, rms_norm_eps=1e-6,
    final_logit_softcapping=30.0, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True,
    rope_parameters=ROPE_PARAMETERS, head_dim=256, global_head_dim=512,
    pad_token_id=0, eos_token_id=1, bos_token_id=2,
)  # fmt: skip

FULL_VARIANTS: "OrderedDict[str, dict]" = OrderedDict(
    [
        ("e2b", dict(
            text=dict(TEXT_FULL_COMMON, hidden_size=1536, num_hidden_layers=35, layer_types=[S, S, S, S, F] * 7,
                      intermediate_size=6144, num_attention_heads=8, num_key_value_heads=1,
                      num_global_key_value_heads=None, attention_k_eq_v=False, sliding_window=512,
                      num_kv_shared_layers=20, use_double_wide_mlp=True, hidden_size_per_layer_input=256,
                      enable_moe_block=False, use_bidirectional_attention=None, max_position_embeddings=131_072),
            vision=VISION_FULL_SMALL, audio=AUDIO_FULL)),
        ("e4b", dict(
            text=dict(TEXT_FULL_COMMON, hidden_size=2560, num_hidden_layers=42, layer_types=[S] * 5 + [F],
                      intermediate_size=10240, num_attention_heads=8, num_key_value_heads=2,
                      num_global_key_value_heads=None, attention_k_eq_v=False, sliding_window=512,
                      num_kv_shared_layers=18, use_double_wide_mlp=False, hidden_size_per_layer_input=256,
                      enable_moe_block=False, use_bidirectional_attention=None, max_position_embeddings=131_072),
            vision=VISION_FULL_SMALL, audio=AUDIO_FULL)),
        ("26b-a4b", dict(
            text=dict(TEXT_FULL_COMMON, hidden_size=2816, num_hidden_layers=30, layer_types=[S] * 5 + [F],
                      intermediate_size=2112, num_attention_heads=16, num_key_value_heads=8,
                      num_global_key_value_heads=2, attention_k_eq_v=True, sliding_window=1024,
                      num_kv_shared_layers=0, use_double_wide_mlp=False, hidden_size_per_layer_input=0,
                      enable_moe_block=True, num_experts=128, top_k_experts=8, moe_intermediate_size=704,
                      use_bidirectional_attention="vision", max_position_embeddings=262_144),
            vision=VISION_FULL_LARGE, audio=None)),
        ("31b", dict(
            text=dict(TEXT_FULL_COMMON, hidden_size=5376, num_hidden_layers=60, layer_types=[S] * 5 + [F],
                      intermediate_size=21504, num_attention_heads=32, num_key_value_heads=16,
                      num_global_key_value_heads=4, attention_k_eq_v=True, sliding_window=1024,
                      num_kv_shared_layers=0, use_double_wide_mlp=False, hidden_size_per_layer_input=0,
                      enable_moe_block=False, use_bidirectional_attention="vision", max_position_embeddings=262_144),
            vision=VISION_FULL_LARGE, audio=None)),
    ]
)  # fmt: skip


def _expand_layer_types(text: dict) -> dict:
    """`layer_types` above may be one period of the pattern; repeat it to num_hidden_layers."""
    text = dict(text)
    pattern = text["layer_types"]
    n = text["num_hidden_layers"]
    assert n % len(pattern) == 0, (n, len(pattern))
    text["layer_types"] = pattern * (n // len(pattern))
    return text


def full_config(name: str) -> Gemma4Config:
    v = FULL_VARIANTS[name]
    top = dict(FULL_TOKEN_IDS, vision_soft_tokens_per_image=280, tie_word_embeddings=True)
    return _build_config(_expand_layer_types(v["text"]), v["vision"], v["audio"], top, dtype="bfloat16")


# ------------------------------------------------------------------------------------
# TINY variants (toy shapes, same structure)
# ------------------------------------------------------------------------------------

TEXT_TINY_COMMON = dict(
    hidden_size=128, head_dim=16, global_head_dim=32, sliding_window=16,
    vocab_size=512, vocab_size_per_layer_input=512, rms_norm_eps=1e-6, final_logit_softcapping=30.0,
    max_position_embeddings=4096, rope_parameters=ROPE_PARAMETERS, hidden_activation="gelu_pytorch_tanh",
    tie_word_embeddings=True, pad_token_id=0, eos_token_id=1, bos_token_id=2,
)  # fmt: skip

VISION_TINY_COMMON = dict(
    hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
    head_dim=16, global_head_dim=16, patch_size=16, pooling_kernel_size=3, position_embedding_size=128,
    rope_parameters=VISION_ROPE_PARAMETERS, default_output_length=280,
)  # fmt: skip
VISION_TINY_SMALL = dict(VISION_TINY_COMMON, use_clipped_linears=True, standardize=False)
VISION_TINY_LARGE = dict(VISION_TINY_COMMON, use_clipped_linears=False, standardize=True)

AUDIO_TINY = dict(
    hidden_size=32, num_hidden_layers=2, num_attention_heads=2, hidden_act="silu",
    # Keep [128, 32]: the SSCP flatten width is (channels[0] // 4) * channels[1] = 32 * 32 = 1024,
    # i.e. transformers uses channels[0] (=128) as a stand-in for the 128 mel bins.
    subsampling_conv_channels=[128, 32], conv_kernel_size=5, residual_weight=0.5,
    attention_chunk_size=12, attention_context_left=13, attention_context_right=0,
    attention_logit_cap=50.0, use_clipped_linears=True, output_proj_dims=64,
)  # fmt: skip

TINY_VARIANTS: "OrderedDict[str, dict]" = OrderedDict(
    [
        ("e2b", dict(
            text=dict(TEXT_TINY_COMMON, num_hidden_layers=10, layer_types=[S, S, S, S, F],
                      num_attention_heads=4, num_key_value_heads=1, num_global_key_value_heads=None,
                      attention_k_eq_v=False, num_kv_shared_layers=5, intermediate_size=256,
                      use_double_wide_mlp=True, hidden_size_per_layer_input=32, enable_moe_block=False,
                      use_bidirectional_attention=None),
            vision=VISION_TINY_SMALL, audio=AUDIO_TINY)),
        ("e4b", dict(
            text=dict(TEXT_TINY_COMMON, num_hidden_layers=12, layer_types=[S] * 5 + [F],
                      num_attention_heads=4, num_key_value_heads=2, num_global_key_value_heads=None,
                      attention_k_eq_v=False, num_kv_shared_layers=4, intermediate_size=256,
                      use_double_wide_mlp=False, hidden_size_per_layer_input=32, enable_moe_block=False,
                      use_bidirectional_attention=None),
            vision=VISION_TINY_SMALL, audio=AUDIO_TINY)),
        ("26b-a4b", dict(
            text=dict(TEXT_TINY_COMMON, num_hidden_layers=12, layer_types=[S] * 5 + [F],
                      num_attention_heads=4, num_key_value_heads=2, num_global_key_value_heads=1,
                      attention_k_eq_v=True, num_kv_shared_layers=0, intermediate_size=96,
                      use_double_wide_mlp=False, hidden_size_per_layer_input=0, enable_moe_block=True,
                      num_experts=8, top_k_experts=2, moe_intermediate_size=32,
                      use_bidirectional_attention="vision"),
            vision=VISION_TINY_LARGE, audio=None)),
        ("31b", dict(
            text=dict(TEXT_TINY_COMMON, num_hidden_layers=12, layer_types=[S] * 5 + [F],
                      num_attention_heads=4, num_key_value_heads=2, num_global_key_value_heads=1,
                      attention_k_eq_v=True, num_kv_shared_layers=0, intermediate_size=256,
                      use_double_wide_mlp=False, hidden_size_per_layer_input=0, enable_moe_block=False,
                      use_bidirectional_attention="vision"),
            vision=VISION_TINY_LARGE, audio=None)),
    ]
)  # fmt: skip


def tiny_config(name: str) -> Gemma4Config:
    v = TINY_VARIANTS[name]
    top = dict(TINY_TOKEN_IDS, vision_soft_tokens_per_image=280, tie_word_embeddings=True)
    return _build_config(_expand_layer_types(v["text"]), v["vision"], v["audio"], top, dtype=None)


# ------------------------------------------------------------------------------------
# Spec §7.1 table (for the FULL comparison).  Strings as printed in the spec; the
# tolerance is half a unit of the last printed digit.
# ------------------------------------------------------------------------------------

SPEC_7_1 = {
    "e2b": dict(token_embedding="0.403 B", ple_table="2.349 B", ple_other="41 M", attention="0.278 B",
                dense_mlp="1.557 B", moe_experts_routers=None, text_total="4.63 B", vision_tower="167 M",
                vision_embedder="1.2 M", audio_tower="305 M", audio_embedder="2.4 M", total="5.10 B"),
    "e4b": dict(token_embedding="0.671 B", ple_table="2.819 B", ple_other="83 M", attention="0.587 B",
                dense_mlp="3.303 B", moe_experts_routers=None, text_total="7.46 B", vision_tower="167 M",
                vision_embedder="2.0 M", audio_tower="305 M", audio_embedder="3.9 M", total="7.94 B"),
    "26b-a4b": dict(token_embedding="0.738 B", ple_table=None, ple_other=None, attention="1.110 B",
                    dense_mlp="0.535 B", moe_experts_routers="22.849 B", text_total="25.23 B",
                    vision_tower="570 M", vision_embedder="3.2 M", audio_tower=None, audio_embedder=None,
                    total="25.8 B"),
    "31b": dict(token_embedding="1.409 B", ple_table=None, ple_other=None, attention="8.478 B",
                dense_mlp="20.809 B", moe_experts_routers=None, text_total="30.70 B", vision_tower="570 M",
                vision_embedder="6.2 M", audio_tower=None, audio_embedder=None, total="31.3 B"),
}  # fmt: skip


def _parse_spec_number(s: str) -> tuple[float, float]:
    """'0.403 B' -> (0.403e9, 0.0005e9)."""
    num, unit = s.split()
    scale = {"B": 1e9, "M": 1e6}[unit]
    decimals = len(num.split(".")[1]) if "." in num else 0
    return float(num) * scale, 0.5 * 10 ** (-decimals) * scale


# ------------------------------------------------------------------------------------
# Partition of the state_dict into the parts of the report
# ------------------------------------------------------------------------------------

PARTS = [
    "token_embedding",       # model.language_model.embed_tokens.weight (tied with lm_head)
    "ple_table",             # model.language_model.embed_tokens_per_layer.weight
    "ple_other",             # per_layer_model_projection, per_layer_projection_norm, per-layer gate/proj/norm
    "attention",             # layers.N.self_attn.* (q/k/v/o projections and q/k norms)
    "dense_mlp",             # layers.N.mlp.* (on 26B-A4B: the dense "shared expert" branch)
    "moe_experts_routers",   # layers.N.experts.*, layers.N.router.*
    "text_norms",            # layers.N.*layernorm* (incl. MoE _1/_2 norms) and the final norm
    "text_layer_scalar",     # layers.N.layer_scalar (buffer)
    "vision_tower",          # model.vision_tower.*
    "vision_embedder",       # model.embed_vision.*
    "audio_tower",           # model.audio_tower.*
    "audio_embedder",        # model.embed_audio.*
]  # fmt: skip
TEXT_PARTS = PARTS[:8]

_TEXT_PREFIX = "model.language_model."
_LAYER_RE = re.compile(r"^layers\.\d+\.(.*)$")


def classify(name: str) -> str | None:
    """Map a state_dict name to a part; None for the tied LM head. Raises on anything unknown."""
    if name == "lm_head.weight":
        return None
    for prefix, part in (
        ("model.vision_tower.", "vision_tower"),
        ("model.embed_vision.", "vision_embedder"),
        ("model.audio_tower.", "audio_tower"),
        ("model.embed_audio.", "audio_embedder"),
    ):
        if name.startswith(prefix):
            return part
    if not name.startswith(_TEXT_PREFIX):
        raise ValueError(f"unclassified state_dict entry: {name}")
    rest = name[len(_TEXT_PREFIX) :]
    if rest == "embed_tokens.weight":
        return "token_embedding"
    if rest == "embed_tokens_per_layer.weight":
        return "ple_table"
    if rest.startswith(("per_layer_model_projection.", "per_layer_projection_norm.")):
        return "ple_other"
    if rest == "norm.weight":
        return "text_norms"
    m = _LAYER_RE.match(rest)
    if m:
        sub = m.group(1)
        if sub.startswith("self_attn."):
            return "attention"
        if sub.startswith("mlp."):
            return "dense_mlp"
        if sub.startswith(("experts.", "router.")):
            return "moe_experts_routers"
        if sub.startswith(("per_layer_input_gate.", "per_layer_projection.", "post_per_layer_input_norm.")):
            return "ple_other"
        if "layernorm" in sub:
            return "text_norms"
        if sub == "layer_scalar":
            return "text_layer_scalar"
    raise ValueError(f"unclassified state_dict entry: {name}")


# ------------------------------------------------------------------------------------
# Model inspection
# ------------------------------------------------------------------------------------


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype):
    old = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def build_model(config: Gemma4Config, meta: bool, dtype: torch.dtype) -> Gemma4ForConditionalGeneration:
    """Instantiate the model; on the meta device no memory is allocated."""
    with _default_dtype(dtype):
        if meta:
            with torch.device("meta"):
                return Gemma4ForConditionalGeneration(config)
        return Gemma4ForConditionalGeneration(config)


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).replace("torch.", "")


def describe_state_dict(model: torch.nn.Module) -> tuple[list[dict], list[dict]]:
    """Every state_dict entry (persistent) plus the non-persistent buffers."""
    sd = model.state_dict()
    param_names = {n for n, _ in model.named_parameters(remove_duplicate=False)}
    buffer_names = {n for n, _ in model.named_buffers(remove_duplicate=False)}
    # Tied weights are the same Parameter object (works on the meta device too, where
    # data_ptr() is meaningless).  For Gemma 4 this is lm_head.weight -> embed_tokens.weight.
    tensors = dict(model.named_parameters(remove_duplicate=False))
    tied = {}
    for target, source in (getattr(model, "_tied_weights_keys", None) or {}).items():
        if target in tensors and source in tensors and tensors[target] is tensors[source]:
            tied[target] = source

    entries = []
    for name, t in sd.items():
        if name in param_names:
            kind = "parameter"
        elif name in buffer_names:
            kind = "buffer"
        else:
            raise ValueError(f"state_dict entry is neither parameter nor buffer: {name}")
        e = OrderedDict(name=name, shape=list(t.shape), dtype=_dtype_name(t.dtype), kind=kind, numel=t.numel())
        if name in tied:
            e["tied_to"] = tied[name]
        entries.append(e)

    non_persistent = []
    for name, b in model.named_buffers():
        if name not in sd:
            non_persistent.append(OrderedDict(name=name, shape=list(b.shape), dtype=_dtype_name(b.dtype)))
    return entries, non_persistent


def count_parts(entries: list[dict]) -> tuple[dict, dict]:
    params = OrderedDict((p, 0) for p in PARTS)
    buffers = OrderedDict((p, 0) for p in PARTS)
    for e in entries:
        part = classify(e["name"])
        if part is None or "tied_to" in e:
            continue
        (params if e["kind"] == "parameter" else buffers)[part] += e["numel"]
    params["text_total"] = sum(params[p] for p in TEXT_PARTS)
    params["total"] = sum(params[p] for p in PARTS)
    buffers["total"] = sum(buffers[p] for p in PARTS)
    return params, buffers


def describe_layers(model: Gemma4ForConditionalGeneration) -> dict:
    """Per-layer geometry read back from the instantiated modules (not from the config)."""
    lm = model.model.language_model
    tc = lm.config
    modes = tc.kv_sharing_modes
    first_shared = tc.num_hidden_layers - tc.num_kv_shared_layers
    layers = []
    for i, layer in enumerate(lm.layers):
        attn = layer.self_attn
        lt = tc.layer_types[i]
        donor = None
        if attn.is_kv_shared_layer:
            # The donor is the last non-shared layer of the same type (spec §2.7).
            donor = max(j for j in range(first_shared) if tc.layer_types[j] == lt)
        d = OrderedDict(
            index=i,
            layer_type=lt,
            head_dim=attn.head_dim,
            num_attention_heads=attn.q_proj.out_features // attn.head_dim,
            num_key_value_heads=(attn.k_proj.out_features // attn.head_dim) if hasattr(attn, "k_proj") else None,
            kv_sharing_mode=modes[i],
            kv_donor_layer=donor,
            has_k_proj=hasattr(attn, "k_proj"),
            has_v_proj=getattr(attn, "v_proj", None) is not None,
            has_k_norm=hasattr(attn, "k_norm"),
            k_eq_v=bool(attn.use_alternative_attention),
            sliding_window=attn.sliding_window,
            mlp_intermediate_size=layer.mlp.intermediate_size,
            moe=bool(layer.enable_moe_block),
            ple=bool(layer.hidden_size_per_layer_input),
        )
        layers.append(d)
    out = OrderedDict(
        text_embed_scale=float(lm.embed_tokens.scalar_embed_scale),
        text_layers=layers,
    )
    if tc.hidden_size_per_layer_input:
        out["ple_embed_scale"] = float(lm.embed_tokens_per_layer.scalar_embed_scale)
        out["ple_table_columns"] = tc.num_hidden_layers * tc.hidden_size_per_layer_input
    rot = lm.rotary_emb
    out["rope_inv_freq_len"] = {lt: int(getattr(rot, f"{lt}_inv_freq").shape[0]) for lt in sorted(rot.rope_type)}
    if model.model.audio_tower is not None:
        sscp = model.model.audio_tower.subsample_conv_projection
        out["audio_sscp_input_proj_in_features"] = sscp.input_proj_linear.in_features
        out["audio_head_dim"] = model.model.audio_tower.layers[0].self_attn.head_dim
        out["audio_rel_pos_context_size"] = model.model.audio_tower.rel_pos_enc.context_size
    if model.model.vision_tower is not None:
        vt = model.model.vision_tower
        out["vision_head_dim"] = vt.encoder.layers[0].self_attn.head_dim
        out["vision_rope_inv_freq_len"] = int(vt.encoder.rotary_emb.inv_freq.shape[0])
        out["vision_patch_input_features"] = vt.patch_embedder.input_proj.in_features
    return out


def serialised_config(config: Gemma4Config, model_dtype: str) -> dict:
    """The config as transformers writes it into config.json.

    `save_pretrained` writes `to_json_string(use_diff=True)` (this drops only the generic
    PreTrainedConfig keys such as id2label / return_dict) after setting `architectures`
    and the top-level `dtype` of the model; we do the same without touching `config`.
    """
    d = json.loads(config.to_json_string(use_diff=True))
    d["architectures"] = [Gemma4ForConditionalGeneration.__name__]
    d["dtype"] = model_dtype
    return dict(sorted(d.items()))


def report(model: Gemma4ForConditionalGeneration, config: Gemma4Config, variant: str, size: str) -> OrderedDict:
    entries, non_persistent = describe_state_dict(model)
    params, buffers = count_parts(entries)
    # Cross-check: the partition covers exactly model.parameters() (tied counted once).
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == params["total"], (variant, n_params, params["total"])

    doc = OrderedDict()
    doc["variant"] = variant
    doc["size"] = size
    doc["generated_by"] = "tools/reference/hf_reference.py"
    doc["transformers_version"] = transformers.__version__
    doc["torch_version"] = torch.__version__.split("+")[0]
    if size == "tiny":
        doc["tiny_special_tokens"] = TINY_SPECIAL_TOKENS
    doc["config"] = serialised_config(config, "bfloat16" if size == "full" else "float32")
    doc["derived"] = describe_layers(model)
    doc["parameter_counts"] = params
    doc["buffer_counts"] = buffers
    doc["parts_legend"] = OrderedDict(
        token_embedding="model.language_model.embed_tokens.weight (lm_head.weight is tied to it, counted once)",
        ple_table="model.language_model.embed_tokens_per_layer.weight",
        ple_other="per_layer_model_projection, per_layer_projection_norm, layers.N.{per_layer_input_gate,"
        "per_layer_projection,post_per_layer_input_norm}",
        attention="layers.N.self_attn.* (q/k/v/o and q/k norms)",
        dense_mlp="layers.N.mlp.*",
        moe_experts_routers="layers.N.experts.*, layers.N.router.*",
        text_norms="layers.N.*layernorm* (incl. MoE pre_feedforward_layernorm_2, post_feedforward_layernorm_1/_2) + norm",
        text_layer_scalar="layers.N.layer_scalar (persistent buffer, in buffer_counts)",
        vision_tower="model.vision_tower.* (clip scalars / std_bias / std_scale are buffers)",
        vision_embedder="model.embed_vision.*",
        audio_tower="model.audio_tower.* (clip scalars are buffers)",
        audio_embedder="model.embed_audio.*",
        text_total="sum of the text parts (parameters only)",
        total="all parameters, tied counted once",
    )
    if size == "full":
        doc["spec_7_1"] = compare_with_spec(variant, params)
    doc["state_dict"] = entries
    doc["non_persistent_buffers"] = non_persistent
    return doc


def compare_with_spec(variant: str, params: dict) -> OrderedDict:
    spec = SPEC_7_1[variant]
    rows = OrderedDict()
    for part, s in spec.items():
        ours = params[part]
        if s is None:
            rows[part] = OrderedDict(spec=None, hf=ours, agrees=ours == 0)
            continue
        value, tol = _parse_spec_number(s)
        rows[part] = OrderedDict(spec=s, hf=ours, agrees=abs(ours - value) <= tol * 1.0001)
    return rows


# ------------------------------------------------------------------------------------
# Tiny checkpoints
# ------------------------------------------------------------------------------------


def _make_values_nontrivial(model: Gemma4ForConditionalGeneration, seed: int = 1234) -> list[str]:
    """Overwrite tensors whose HF init is a constant (or +-inf) with realistic values.

    Returns the list of name patterns that were set (documented in the README).
    Draws from a private generator so the result only depends on `seed` and the
    (deterministic) order of named_parameters / named_buffers.
    """
    g = torch.Generator().manual_seed(seed)

    def uniform(t: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(t.shape, generator=g, dtype=torch.float64).to(t.dtype)

    def normal(t: torch.Tensor, std: float, mean: float = 0.0) -> torch.Tensor:
        return mean + std * torch.randn(t.shape, generator=g, dtype=torch.float64).to(t.dtype)

    rules = [
        # (regex on the state_dict name, description, value function)
        (r"\.layer_scalar$", "layer_scalar ~ U[0.3, 0.9]", lambda t: uniform(t, 0.3, 0.9)),
        (r"\.input_min$", "clip input_min ~ -U[2, 6]", lambda t: -uniform(t, 2.0, 6.0)),
        (r"\.input_max$", "clip input_max ~ +U[2, 6]", lambda t: uniform(t, 2.0, 6.0)),
        (r"\.output_min$", "clip output_min ~ -U[2, 6]", lambda t: -uniform(t, 2.0, 6.0)),
        (r"\.output_max$", "clip output_max ~ +U[2, 6]", lambda t: uniform(t, 2.0, 6.0)),
        # Gemma 4 RMSNorm is x_hat * w (no +1), init all ones -> make them differ per channel.
        (r"(norm|layernorm|layer_norm|norm_pre_attn|norm_post_attn|norm_out)(_\d)?\.weight$",
         "every norm weight (RMSNorm and the audio SSCP LayerNorms) ~ U[0.5, 1.5]", lambda t: uniform(t, 0.5, 1.5)),
        (r"\.router\.scale$", "router.scale ~ U[0.5, 1.5]", lambda t: uniform(t, 0.5, 1.5)),
        (r"\.router\.per_expert_scale$", "router.per_expert_scale ~ U[0.5, 1.5]", lambda t: uniform(t, 0.5, 1.5)),
        (r"\.per_dim_scale$", "audio self_attn.per_dim_scale ~ N(0, 0.3) (init is zeros)", lambda t: normal(t, 0.3)),
        (r"\.position_embedding_table$", "vision position_embedding_table ~ N(0, 0.1) (init is ones)",
         lambda t: normal(t, 0.1)),
        (r"\.std_bias$", "vision std_bias ~ N(0, 0.5) (init zeros)", lambda t: normal(t, 0.5)),
        (r"\.std_scale$", "vision std_scale ~ U[0.5, 1.5] (init ones)", lambda t: uniform(t, 0.5, 1.5)),
        (r"\.output_proj\.bias$", "audio output_proj.bias ~ N(0, 0.02) (init zeros)", lambda t: normal(t, 0.02)),
    ]  # fmt: skip
    compiled = [(re.compile(rx), desc, fn) for rx, desc, fn in rules]
    used: list[str] = []

    sd_names = list(model.state_dict().keys())
    tensors = dict(model.named_parameters())
    tensors.update(dict(model.named_buffers()))
    with torch.no_grad():
        for name in sd_names:
            if name == "lm_head.weight":
                continue
            for rx, desc, fn in compiled:
                if rx.search(name):
                    t = tensors[name]
                    t.copy_(fn(t))
                    if desc not in used:
                        used.append(desc)
                    break
        # nn.Embedding(padding_idx=0) zeroes row 0 at init.  Real checkpoints have a
        # trained pad row, and the PLE path reads row 0 for multimodal slots.
        lm = model.model.language_model
        pad = lm.config.pad_token_id
        for emb_name in ("embed_tokens", "embed_tokens_per_layer"):
            emb = getattr(lm, emb_name, None)
            if emb is not None:
                emb.weight[pad].copy_(normal(emb.weight[pad], 0.02))
                used.append(f"{emb_name}.weight row {pad} (pad row, zeroed by HF init) ~ N(0, 0.02)")
    return used


def tiny_generation_config(config: Gemma4Config) -> GenerationConfig:
    """Same recipe as the converter for instruction-tuned checkpoints:
    eos = [<eos>, <turn|>, <|tool_response>], sampling 1.0 / 64 / 0.95."""
    tc = config.get_text_config()
    return GenerationConfig(
        pad_token_id=tc.pad_token_id,
        bos_token_id=tc.bos_token_id,
        eos_token_id=[_TID["<eos>"], _TID["<turn|>"], _TID["<|tool_response>"]],
        temperature=1.0,
        do_sample=True,
        top_k=64,
        top_p=0.95,
    )


def _smoke_inputs(config: Gemma4Config) -> dict:
    """A small multimodal prompt: text + one 6x6-patch image (-> 4 soft tokens)
    [+ 0.48 s of log-mel audio (48 frames -> 12 soft tokens) when there is an audio tower]."""
    g = torch.Generator().manual_seed(7)
    vc = config.vision_config
    p = vc.patch_size
    grid = 6  # 6x6 patches, pooled 3x3 -> 2x2 = 4 soft tokens
    n_img = (grid // vc.pooling_kernel_size) ** 2
    pos = torch.tensor([[x, y] for y in range(grid) for x in range(grid)], dtype=torch.long)[None]
    pixel_values = torch.rand((1, grid * grid, 3 * p * p), generator=g)
    ids = [2, 5, 30, 31, 32, 17] + [21] * n_img + [18]
    inputs = dict(pixel_values=pixel_values, image_position_ids=pos)
    mm_type = [0] * 6 + [1] * n_img + [0]
    if config.audio_config is not None:
        frames = 48  # ceil(ceil(48/2)/2) = 12 soft tokens
        n_aud = 12
        inputs["input_features"] = torch.randn((1, frames, 128), generator=g)
        inputs["input_features_mask"] = torch.ones((1, frames), dtype=torch.bool)
        ids += [19] + [22] * n_aud + [20]
        mm_type += [0] + [3] * n_aud + [0]
    ids += [40, 41, 6]
    mm_type += [0, 0, 0]
    inputs["input_ids"] = torch.tensor([ids])
    inputs["attention_mask"] = torch.ones_like(inputs["input_ids"])
    inputs["mm_token_type_ids"] = torch.tensor([mm_type])
    return inputs


def save_tiny_checkpoint(name: str, out_dir: str) -> dict:
    config = tiny_config(name)
    torch.manual_seed(0)
    model = build_model(config, meta=False, dtype=torch.float32).eval()
    set_tensors = _make_values_nontrivial(model)
    model.generation_config = tiny_generation_config(config)

    target = os.path.join(out_dir, f"{name}_tiny_hf")
    if os.path.isdir(target):
        shutil.rmtree(target)
    model.save_pretrained(target, safe_serialization=True)

    # --- checks: reload, compare every tensor, run one multimodal forward ---------
    reloaded = Gemma4ForConditionalGeneration.from_pretrained(target, dtype=torch.float32).eval()
    sd_a, sd_b = model.state_dict(), reloaded.state_dict()
    assert sd_a.keys() == sd_b.keys()
    for k in sd_a:
        assert torch.equal(sd_a[k], sd_b[k]), k
    with torch.no_grad():
        out = reloaded(**_smoke_inputs(config))
    logits = out.logits
    assert torch.isfinite(logits).all()
    assert logits.abs().max() <= 30.0 + 1e-4  # final_logit_softcapping

    # The config.json that save_pretrained wrote is exactly what <name>_tiny.json records.
    with open(os.path.join(target, "config.json"), encoding="utf-8") as f:
        assert json.load(f) == serialised_config(config, "float32"), "config.json differs from the report"

    from safetensors import safe_open

    with safe_open(os.path.join(target, "model.safetensors"), "pt") as f:
        saved = sorted(f.keys())
    sizes = {fn: os.path.getsize(os.path.join(target, fn)) for fn in sorted(os.listdir(target))}
    return dict(
        dir=target,
        set_tensors=set_tensors,
        saved_tensors=len(saved),
        lm_head_saved="lm_head.weight" in saved,
        file_sizes=sizes,
        smoke_logits_shape=list(logits.shape),
    )


# ------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------


def _is_flat(obj) -> bool:
    """A container whose members are scalars or lists of scalars (e.g. one state_dict entry)."""
    values = obj.values() if isinstance(obj, dict) else obj
    for v in values:
        if isinstance(v, dict):
            return False
        if isinstance(v, list) and any(isinstance(x, (dict, list)) for x in v):
            return False
    return True


def _dumps(obj, level: int = 0) -> str:
    """JSON with one line per flat object below the second level (one state_dict entry per
    line, one text layer per line), everything else expanded.  Diff-friendly."""
    if not isinstance(obj, (dict, list)) or (level >= 2 and _is_flat(obj)):
        return json.dumps(obj, ensure_ascii=False)
    pad, pad_in = " " * level, " " * (level + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad_in}{json.dumps(str(k))}: {_dumps(v, level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if not obj:
        return "[]"
    items = [f"{pad_in}{_dumps(v, level + 1)}" for v in obj]
    return "[\n" + ",\n".join(items) + "\n" + pad + "]"


def write_json(path: str, doc) -> None:
    text = _dumps(doc)
    assert json.loads(text) == json.loads(json.dumps(doc))  # same content as a plain dump
    with open(path, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: tests/data/hf_reference)")
    ap.add_argument("--only", action="append", choices=["full", "tiny", "ckpt"], help="run only these steps")
    args = ap.parse_args(argv)
    steps = set(args.only or ["full", "tiny", "ckpt"])
    os.makedirs(args.out, exist_ok=True)
    transformers.logging.set_verbosity_error()

    if "full" in steps:
        for name in FULL_VARIANTS:
            config = full_config(name)
            model = build_model(config, meta=True, dtype=torch.bfloat16)
            doc = report(model, config, name, "full")
            write_json(os.path.join(args.out, f"{name}_full.json"), doc)
            bad = [k for k, r in doc["spec_7_1"].items() if not r["agrees"]]
            pc = doc["parameter_counts"]
            print(f"[full] {name}: total {pc['total']:,} text {pc['text_total']:,}"
                  f" spec disagreements: {bad or 'none'}")  # fmt: skip
            del model

    if "tiny" in steps:
        for name in TINY_VARIANTS:
            config = tiny_config(name)
            model = build_model(config, meta=True, dtype=torch.float32)
            doc = report(model, config, name, "tiny")
            write_json(os.path.join(args.out, f"{name}_tiny.json"), doc)
            pc = doc["parameter_counts"]
            print(f"[tiny] {name}: total {pc['total']:,} params, {len(doc['state_dict'])} state_dict entries")
            del model

    if "ckpt" in steps:
        for name in ("e2b", "26b-a4b"):
            info = save_tiny_checkpoint(name, args.out)
            print(f"[ckpt] {name}: {info['dir']} files {info['file_sizes']} tensors {info['saved_tensors']}"
                  f" lm_head saved: {info['lm_head_saved']} smoke logits {info['smoke_logits_shape']}")  # fmt: skip
            for s in info["set_tensors"]:
                print(f"         set: {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
