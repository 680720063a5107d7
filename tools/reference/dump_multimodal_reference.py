#!/usr/bin/env python3
"""End-to-end reference for image questions: image files -> Gemma4Processor -> Gemma4ForConditionalGeneration.

Transformers is the definition of Gemma 4 for this project. For each tiny variant (e2b, e4b,
26b-a4b, 31b) this script

  1. makes a tiny f32 test model with our CLI (`make-test-model --variant V --format safetensors
     --seed 1`), which writes processor_config.json and the chat template too,
  2. loads it with AutoProcessor (the default torchvision-backed Gemma4ImageProcessor) and
     Gemma4ForConditionalGeneration (float32, eval, eager attention),
  3. renders one user turn with images and a question through the processor's chat template
     (26b-a4b/31b: plus the empty thought channel their published template pre-fills, as our
     renderer does), lets the processor expand each image placeholder and compute pixel values,
  4. runs one full forward pass with mm_token_type_ids (so 26b-a4b/31b get the block-bidirectional
     sliding mask for image tokens, as at generation) and records
       input_ids          the prompt the C++ prompt assembly must reproduce
       soft_tokens_f64    [N, H] what the embedder inserts for all images (get_image_features)
       logits_f64         [K, V] the logits (after the softcap) at each <image|> and at every
                          position after the last one (positions in `logit_positions`)
       greedy             16 greedy tokens from model.generate (the cached path)
  5. runs the same case in float64 and stores ITS soft tokens and logits (rounded to f32:
     "soft_tokens_f64", "logits_f64"), with each f32 tensor's relative error (max|f32 - f64| /
     max|f64|) in the JSON. The C++ tests measure their own error against the f64 values, the
     closest thing to the exact result, and allow 3x what transformers' own f32 run makes.

Images (tests/data/vision/e2e/, written by this script, deterministic):
  square.png  768x768: at the default 280 budget the target size is 768x768, so no resampling
              happens and the check is independent of the resize filter (256 soft tokens);
  wide.png    300x200 (w x h): resized (upscaled) to 960x624 -> 260 soft tokens.
Cases: "one" = [square] + question; "two" = [square, wide] + question.

Usage (from the repository root, after building gemmadesk-cli):
    /work/venv/bin/python tools/reference/dump_multimodal_reference.py [--cli PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import save_file

import transformers
from transformers import AutoTokenizer, Gemma4ForConditionalGeneration, Gemma4Processor
from transformers.models.gemma4.feature_extraction_gemma4 import Gemma4AudioFeatureExtractor
from transformers.models.gemma4.image_processing_gemma4 import Gemma4ImageProcessor
from transformers.models.gemma4.video_processing_gemma4 import Gemma4VideoProcessor

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO_ROOT, "tests", "data", "reference")
IMAGE_DIR = os.path.join(REPO_ROOT, "tests", "data", "vision", "e2e")
DEFAULT_CLI = os.path.join(REPO_ROOT, "build", "me", "app", "gemmadesk-cli")
VARIANTS = ["e2b", "e4b", "26b-a4b", "31b"]
SEED = 1
QUESTION = "What is in this picture?"
# What the published tokenizer_config.json names (the test folder's does not).
MEDIA_TOKENS = {"image_token": "<|image|>", "boi_token": "<|image>", "eoi_token": "<image|>",
                "audio_token": "<|audio|>", "boa_token": "<|audio>", "eoa_token": "<audio|>"}
CASES = {"one": ["square.png"], "two": ["square.png", "wide.png"]}


def make_images() -> None:
    """Smooth gradients, a few hard edges and a little texture: compresses well, exercises the tower."""
    os.makedirs(IMAGE_DIR, exist_ok=True)
    rng = np.random.default_rng(7)
    for name, (w, h) in {"square.png": (768, 768), "wide.png": (300, 200)}.items():
        y, x = np.mgrid[0:h, 0:w].astype(np.float64)
        r = 255 * x / max(w - 1, 1)
        g = 255 * y / max(h - 1, 1)
        b = 127 + 100 * np.sin(x / 23.0) * np.cos(y / 17.0)
        img = np.stack([r, g, b], axis=-1)
        img[(x - w * 0.3) ** 2 + (y - h * 0.6) ** 2 < (min(w, h) * 0.15) ** 2] = [250, 40, 30]
        img[int(h * 0.1):int(h * 0.25), int(w * 0.55):int(w * 0.9)] = [20, 30, 200]
        img[:48, :48] += rng.integers(-40, 41, size=(48, 48, 3))  # a little texture (kept small: PNG size)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB").save(os.path.join(IMAGE_DIR, name), optimize=True)


def run_case(model_dir: str, variant: str, images: list[str], dtype: torch.dtype):
    # Built from its parts: the test folder has the image processor's config and the chat template,
    # not the video/audio processor files AutoProcessor would also want.
    with open(os.path.join(model_dir, "processor_config.json")) as f:
        image_config = json.load(f)["image_processor"]
    image_config.pop("image_processor_type", None)
    with open(os.path.join(model_dir, "chat_template.jinja")) as f:
        template = f.read()
    processor = Gemma4Processor(feature_extractor=Gemma4AudioFeatureExtractor(),
                                image_processor=Gemma4ImageProcessor(**image_config),
                                tokenizer=AutoTokenizer.from_pretrained(model_dir, extra_special_tokens=MEDIA_TOKENS),
                                video_processor=Gemma4VideoProcessor(), chat_template=template)
    extra = {"experts_implementation": "eager"} if dtype == torch.float64 else {}  # grouped_mm has no f64 kernel
    model = Gemma4ForConditionalGeneration.from_pretrained(model_dir, dtype=dtype, attn_implementation="eager",
                                                           **extra).eval()
    content = [{"type": "image"} for _ in images] + [{"type": "text", "text": QUESTION}]
    text = processor.apply_chat_template([{"role": "user", "content": content}], add_generation_prompt=True,
                                         tokenize=False)
    if variant in ("26b-a4b", "31b"):
        text += "<|channel>thought\n<channel|>"  # the published 26B/31B template pre-fills it (spec §9.32)
    pil = [Image.open(os.path.join(IMAGE_DIR, f)).convert("RGB") for f in images]
    inputs = processor(text=text, images=pil, return_tensors="pt", add_special_tokens=False)
    if dtype == torch.float64:
        inputs["pixel_values"] = inputs["pixel_values"].to(torch.float64)
    with torch.no_grad():
        feats = model.model.get_image_features(inputs["pixel_values"], inputs["image_position_ids"], return_dict=True)
        soft = torch.cat(feats.pooler_output, dim=0)
        out = model(**inputs)
        greedy = None
        if dtype == torch.float32:
            gen = model.generate(**inputs, max_new_tokens=16, do_sample=False)
            greedy = gen[0, inputs["input_ids"].shape[1]:].tolist()
    ids = inputs["input_ids"][0].tolist()
    eoi = processor.tokenizer.convert_tokens_to_ids("<image|>")
    ends = [i for i, t in enumerate(ids) if t == eoi]
    positions = ends[:-1] + list(range(ends[-1], len(ids)))
    logits = out.logits[0, positions, :]
    return ids, soft, logits, positions, greedy


def rel_err(a: torch.Tensor, ref: torch.Tensor) -> float:
    return float((a.double() - ref).abs().max() / ref.abs().max())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cli", default=DEFAULT_CLI)
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    make_images()
    os.makedirs(args.out, exist_ok=True)
    cases = []
    with tempfile.TemporaryDirectory() as work:
        for variant in VARIANTS:
            model_dir = os.path.join(work, variant)
            cmd = ["make-test-model", "--variant", variant, "--format", "safetensors", "--seed", str(SEED), "--out", model_dir]
            subprocess.run([args.cli, *cmd], check=True, stdout=subprocess.DEVNULL)
            for case, images in CASES.items():
                ids, soft, logits, positions, greedy = run_case(model_dir, variant, images, torch.float32)
                ids64, soft64, logits64, _, _ = run_case(model_dir, variant, images, torch.float64)
                assert ids64 == ids
                name = f"multimodal_{variant}_{case}"
                # The f64 results, rounded to f32 (2^-24 relative: far below the f32 errors measured).
                save_file({"soft_tokens_f64": soft64.numpy().astype(np.float32),
                           "logits_f64": logits64.numpy().astype(np.float32)},
                          os.path.join(args.out, name + ".safetensors"))
                cases.append({
                    "file": name + ".safetensors",
                    "variant": variant,
                    "case": case,
                    "make_test_model": ["gemmadesk-cli", *cmd[:-1], "DIR"],
                    "images": images,
                    "image_tokens": 280,
                    "question": QUESTION,
                    "input_ids": ids,
                    "logit_positions": positions,
                    "greedy": greedy,
                    "f32_error": {"soft_tokens": rel_err(soft, soft64), "logits": rel_err(logits, logits64)},
                    # per recorded position: the f32 run's error relative to that row's max|f64|
                    "logits_f32_error_by_position": [rel_err(logits[k], logits64[k]) for k in range(len(positions))],
                    "max_abs": {"soft_tokens": float(soft.abs().max()), "logits": float(logits.abs().max())},
                })
                print(name, len(ids), "tokens", cases[-1]["f32_error"])
    meta = {"versions": {"transformers": transformers.__version__, "torch": torch.__version__}, "cases": cases}
    with open(os.path.join(args.out, "multimodal_cases.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
