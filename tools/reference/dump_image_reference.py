#!/usr/bin/env python3
"""Reference output of the Gemma 4 *image processor*, taken from Hugging Face transformers.

For deterministic synthetic test images (many sizes and shapes, and one file per format and pixel
layout) this script

  1. writes the input files to tests/data/vision/images/,
  2. decodes each file the way the reference does for a PIL image: PIL.Image.open ->
     ImageOps.exif_transpose -> transformers.image_transforms.convert_to_rgb (which composites
     transparency over white), and stores that 8-bit RGB image for the non-trivial formats,
  3. runs transformers' default Gemma4ImageProcessor (the torchvision backend, the class
     AutoImageProcessor picks) at the budgets listed per image, and stores the resized uint8 image
     (recovered exactly from pixel_values, see below), the target size, the soft-token count and
     order-sensitive checksums of pixel_values and image_position_ids,
  4. does the same for budgets the processor refuses (1, 3, 7, 100) by calling the processor's own
     methods (get_aspect_ratio_preserving_size, aspect_ratio_preserving_resize,
     rescale_and_normalize, convert_image_to_patches) — checked to equal the full call on an
     official budget,
  5. records the spec §3.2 sizing table and edge cases of the sizing rule,
  6. compares with the PIL backend (Gemma4ImageProcessorPil) and records how far it is off.

Everything runs on the CPU and is deterministic: a second run gives byte-identical files.

Usage (from the repository root):
    /work/venv/bin/python tools/reference/dump_image_reference.py
    /work/venv/bin/python tools/reference/dump_image_reference.py --out /tmp/x
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import struct
import sys
import tempfile
import zlib

import numpy as np
import PIL
import torch
import torchvision
import transformers
from PIL import Image, ImageOps
from torchvision.transforms.v2 import functional as tvF
from transformers import AutoImageProcessor
from transformers.image_transforms import convert_to_rgb
from transformers.models.gemma4.image_processing_gemma4 import (
    Gemma4ImageProcessor,
    convert_image_to_patches,
    get_aspect_ratio_preserving_size,
)
from transformers.models.gemma4.image_processing_pil_gemma4 import Gemma4ImageProcessorPil

OFFICIAL = (70, 140, 280, 560, 1120)
PATCH, POOL = 16, 3


# ----------------------------------------------------------------------------------------------
# Synthetic pictures: gradients, hard-edged shapes, fine stripes (aliasing) and one small noisy
# patch. Separable gradients keep the PNGs small (PNG's Sub/Up filters predict them exactly).
# ----------------------------------------------------------------------------------------------
def synth(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.arange(h, dtype=np.float64)[:, None] / max(h - 1, 1)
    x = np.arange(w, dtype=np.float64)[None, :] / max(w - 1, 1)
    img = np.empty((h, w, 3), np.float64)
    img[..., 0] = 30 + 200 * x + 0 * y
    img[..., 1] = 20 + 180 * y + 0 * x
    img[..., 2] = 128 + 100 * np.sin(2 * np.pi * x * 1.5) + 0 * y
    for k in range(6):
        cy, cx = rng.uniform(0.1, 0.9, 2)
        ry, rx = rng.uniform(0.04, 0.15, 2)
        col = rng.integers(0, 256, 3)
        if k % 2 == 0:
            m = (np.abs(y - cy) < ry) & (np.abs(x - cx) < rx)
        else:
            m = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 < 1
        img[m] = col
    yy = np.arange(h)[:, None]
    xx = np.arange(w)[None, :]
    band = (y > 0.62) & (y < 0.72) & (x > 0.05) & (x < 0.6)
    stripes = np.where(((xx // 2) + (yy // 3)) % 2 == 0, 250.0, 5.0)
    img[band] = np.broadcast_to(stripes[..., None], img.shape)[band]
    th, tw = min(h, 40), min(w, 56)
    y0, x0 = int(0.2 * (h - th)), int(0.7 * (w - tw))
    noise = rng.integers(-40, 41, (th, tw, 3))
    img[y0 : y0 + th, x0 : x0 + tw] = np.clip(img[y0 : y0 + th, x0 : x0 + tw] + noise, 0, 255)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def png_bytes(arr: np.ndarray, mode: str | None = None) -> bytes:
    b = io.BytesIO()
    Image.fromarray(arr, mode).save(b, "PNG", optimize=True)
    return b.getvalue()


def raw_png(arr: np.ndarray, color_type: int, bit_depth: int, extra_chunks=()) -> bytes:
    """A PNG written by hand (PIL cannot write 16-bit RGB/RGBA)."""
    h, w = arr.shape[:2]
    dt = ">u2" if bit_depth == 16 else "u1"
    raw = b"".join(b"\x00" + np.ascontiguousarray(arr[r]).astype(dt).tobytes() for r in range(h))

    def chunk(t: bytes, d: bytes) -> bytes:
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 0)
    body = chunk(b"IHDR", ihdr)
    for t, d in extra_chunks:
        body += chunk(t, d)
    body += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def exif_orientation_bytes(orientation: int) -> bytes:
    ex = Image.Exif()
    ex[0x0112] = orientation
    return ex.tobytes()


# --- a tiny GIF writer, for the GIF cases PIL's writer cannot make (frame smaller than or
# outside the logical screen, out-of-range palette indices, no palette at all) -----------------
def _lzw(indices: list[int], min_bits: int) -> bytes:
    clear, end = 1 << min_bits, (1 << min_bits) + 1
    codes, bits, table, nxt, w = [(clear, min_bits + 1)], min_bits + 1, {}, end + 1, None
    for k in indices:
        if w is None:
            w = (k,)
            continue
        wk = w + (k,)
        if wk in table:
            w = wk
            continue
        codes.append((table[w] if len(w) > 1 else w[0], bits))
        table[wk] = nxt
        nxt += 1
        if nxt > (1 << bits) and bits < 12:
            bits += 1
        if nxt >= 4095:
            codes.append((clear, bits))
            table, nxt, bits = {}, end + 1, min_bits + 1
        w = (k,)
    if w is not None:
        codes.append((table[w] if len(w) > 1 else w[0], bits))
    codes.append((end, bits))
    acc = n = 0
    out = bytearray()
    for c, b in codes:
        acc |= c << n
        n += b
        while n >= 8:
            out.append(acc & 255)
            acc >>= 8
            n -= 8
    if n:
        out.append(acc & 255)
    return bytes(out)


def raw_gif(screen_w, screen_h, frame, global_palette=None, transparency=None, interlace=False) -> bytes:
    x, y, w, h, idx, local_palette = frame
    out = bytearray(b"GIF89a")
    flags, gbits = 0, 0
    if global_palette is not None:
        gbits = max(1, (len(global_palette) - 1).bit_length())
        flags = 0x80 | (gbits - 1)
    out += struct.pack("<HHBBB", screen_w, screen_h, flags, 0, 0)
    if global_palette is not None:
        for c in list(global_palette) + [(0, 0, 0)] * ((1 << gbits) - len(global_palette)):
            out += bytes(c)
    if transparency is not None:
        out += b"\x21\xf9\x04\x01\x00\x00" + bytes([transparency]) + b"\x00"
    lf = 0x40 if interlace else 0
    if local_palette is not None:
        lbits = max(1, (len(local_palette) - 1).bit_length())
        lf |= 0x80 | (lbits - 1)
    out += b"," + struct.pack("<HHHHB", x, y, w, h, lf)
    if local_palette is not None:
        for c in list(local_palette) + [(0, 0, 0)] * ((1 << lbits) - len(local_palette)):
            out += bytes(c)
    mb = 2
    while (1 << mb) <= max(idx):
        mb += 1
    out.append(mb)
    data = _lzw(list(idx), mb)
    for i in range(0, len(data), 255):
        out.append(len(data[i : i + 255]))
        out += data[i : i + 255]
    out += b"\x00;"
    return bytes(out)


# ----------------------------------------------------------------------------------------------
# The images
# ----------------------------------------------------------------------------------------------
def make_images() -> list[dict]:
    """name, file name, bytes, budgets, and (where the reference decode is not what we do) the
    decoded RGB we expect instead, with the reason."""
    imgs: list[dict] = []

    def add(name, fname, data, budgets, **kw):
        imgs.append(dict(name=name, file=fname, data=data, budgets=list(budgets), **kw))

    # Sizes and shapes (PNG, RGB; the file is its own decoded reference). Height x width.
    add("tiny_1x1", "tiny_1x1.png", png_bytes(synth(1, 1, 1)), [70, 1120, 1], synthetic=True)
    add("tiny_5x7", "tiny_5x7.png", png_bytes(synth(5, 7, 2)), [70, 280, 1120, 1, 3, 7], synthetic=True)
    add("square_224", "square_224.png", png_bytes(synth(224, 224, 3)), [*OFFICIAL, 1, 7, 100], synthetic=True)
    add("square_1000", "square_1000.png", png_bytes(synth(1000, 1000, 4)), OFFICIAL, synthetic=True)
    add("photo_768x1024", "photo_768x1024.png", png_bytes(synth(768, 1024, 5)), [*OFFICIAL, 100], synthetic=True)
    add("hd_1080x1920", "hd_1080x1920.png", png_bytes(synth(1080, 1920, 6)), OFFICIAL, synthetic=True)
    add("uhd_2160x3840", "uhd_2160x3840.png", png_bytes(synth(2160, 3840, 7)), [280, 1120], synthetic=True)
    add("pano_200x2000", "pano_200x2000.png", png_bytes(synth(200, 2000, 8)), [70, 280, 7], synthetic=True)
    add("strip_20x2000", "strip_20x2000.png", png_bytes(synth(20, 2000, 9)), [70, 280], synthetic=True)
    add("tall_1600x200", "tall_1600x200.png", png_bytes(synth(1600, 200, 10)), [280, 560], synthetic=True)
    # Exactly a target size already: the reference skips resizing.
    add("exact_768x768", "exact_768x768.png", png_bytes(synth(768, 768, 11)), [280], synthetic=True)

    # Formats and pixel layouts (small).
    base = synth(120, 160, 20)
    alpha = np.zeros((120, 160), np.uint8)
    alpha[:, :] = np.linspace(0, 255, 160).round().astype(np.uint8)[None, :]
    alpha[10:40, 20:60] = 0  # fully transparent over coloured pixels
    alpha[80:110, 100:150] = 255
    add("rgba_png", "rgba.png", png_bytes(np.dstack([base, alpha]), "RGBA"), [70])

    gray = synth(150, 200, 21)[..., 1]
    add("gray_png", "gray.png", png_bytes(gray, "L"), [70])

    la = np.dstack([synth(40, 50, 22)[..., 0], np.tile(np.linspace(0, 255, 50).round().astype(np.uint8), (40, 1))])
    add("gray_alpha_png", "gray_alpha.png", png_bytes(la, "LA"), [70])

    g16 = (synth(90, 120, 23)[..., 0].astype(np.uint16) * 257 + np.arange(120, dtype=np.uint16)[None, :] * 2)
    # PIL opens this as mode I;16 and convert("RGB") CLIPS it (every value >= 255 becomes 255):
    # Gemma Desk keeps the high byte instead, as PIL itself does for 16-bit RGB.
    add("gray16_png", "gray16.png", raw_png(g16, 0, 16), [70],
        expected_override=np.repeat((g16 >> 8).astype(np.uint8)[..., None], 3, axis=2),
        override_reason="PIL clips 16-bit grayscale to 255; Gemma Desk keeps the high byte (v >> 8), "
        "as PIL does for 16-bit RGB")
    rgb16 = synth(90, 120, 24).astype(np.uint16) * 257 + (np.arange(120, dtype=np.uint16)[None, :, None] * 3)
    add("rgb16_png", "rgb16.png", raw_png(rgb16, 2, 16), [70])
    a16 = np.tile(np.linspace(0, 65535, 120).round().astype(np.uint16), (90, 1))
    add("rgba16_png", "rgba16.png", raw_png(np.dstack([rgb16, a16]), 6, 16), [70])

    pal = Image.fromarray(synth(130, 170, 25)).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pb = io.BytesIO()
    pal.save(pb, "PNG", transparency=bytes([255] * 5 + [0, 128] + [255] * 57), optimize=False)
    add("palette_trns_png", "palette_trns.png", pb.getvalue(), [70])
    gb = io.BytesIO()
    Image.fromarray(gray[:60, :80], "L").save(gb, "PNG", transparency=int(gray[30, 40]))
    add("gray_trns_png", "gray_trns.png", gb.getvalue(), [70])

    rb = io.BytesIO()
    rgb_t = synth(50, 70, 26)
    Image.fromarray(rgb_t).save(rb, "PNG", transparency=tuple(int(v) for v in rgb_t[25, 35]))
    add("rgb_trns_png", "rgb_trns.png", rb.getvalue(), [70])

    gif = io.BytesIO()
    pal.save(gif, "GIF", transparency=7)
    add("palette_gif", "palette.gif", gif.getvalue(), [70, 280])
    gif_i = io.BytesIO()
    pal.convert("RGB").quantize(colors=16, dither=Image.Dither.NONE).save(gif_i, "GIF", interlace=True)
    add("interlaced_gif", "interlaced.gif", gif_i.getvalue(), [70])
    pal4 = [(200, 10, 10), (10, 200, 10), (1, 2, 3), (4, 5, 6)]
    add("gif_small_frame", "gif_small_frame.gif", raw_gif(4, 3, (1, 1, 2, 1, [1, 2], None), pal4), [])
    add("gif_small_frame_trns", "gif_small_frame_trns.gif", raw_gif(4, 3, (1, 1, 2, 1, [1, 2], None), pal4, transparency=2), [])
    add("gif_frame_outside", "gif_frame_outside.gif", raw_gif(2, 2, (1, 1, 2, 2, [1, 2, 3, 1], None), pal4), [])
    add("gif_palette_oob", "gif_palette_oob.gif", raw_gif(3, 2, (0, 0, 3, 2, [0, 1, 2, 3, 1, 0], None), pal4[:2]), [])
    add("gif_local_palette", "gif_local_palette.gif", raw_gif(3, 2, (0, 0, 3, 2, [0, 1, 2, 3, 1, 0], [(9, 9, 9), (90, 80, 70), (1, 1, 250), (7, 8, 9)]), pal4[:2]), [])
    add("gif_no_palette", "gif_no_palette.gif", raw_gif(3, 1, (0, 0, 3, 1, [0, 5, 200], None)), [])
    add("gif_interlaced_10", "gif_interlaced_10.gif", raw_gif(1, 10, (0, 0, 1, 10, list(range(10)), None), [(i * 10, i, 0) for i in range(16)], interlace=True), [])

    photo = synth(120, 160, 30)
    jb = io.BytesIO()
    Image.fromarray(photo).save(jb, "JPEG", quality=90, exif=exif_orientation_bytes(6))
    add("jpeg_exif6", "exif6.jpg", jb.getvalue(), [70, 280])
    jb = io.BytesIO()
    Image.fromarray(photo).save(jb, "JPEG", quality=85, exif=exif_orientation_bytes(8), progressive=True, subsampling=0)
    add("jpeg_exif8_progressive", "exif8_progressive.jpg", jb.getvalue(), [70])
    jb = io.BytesIO()
    Image.fromarray(photo[..., 0], "L").save(jb, "JPEG", quality=90)
    add("jpeg_gray", "gray.jpg", jb.getvalue(), [70])
    wb = io.BytesIO()
    Image.fromarray(photo).save(wb, "WEBP", quality=80, method=4)
    add("webp_lossy", "photo.webp", wb.getvalue(), [70])
    wb = io.BytesIO()
    Image.fromarray(np.dstack([photo, alpha])).save(wb, "WEBP", lossless=True, exif=exif_orientation_bytes(6))
    add("webp_lossless_alpha_exif6", "alpha_exif6.webp", wb.getvalue(), [70])
    bb = io.BytesIO()
    Image.fromarray(synth(110, 150, 31)).save(bb, "BMP")
    add("bmp", "image.bmp", bb.getvalue(), [70])
    bb = io.BytesIO()
    # PIL writes RGBA as a 32-bit BI_RGB BMP, whose fourth byte both PIL and OpenCV ignore.
    Image.fromarray(np.dstack([synth(30, 40, 34), np.full((30, 40), 7, np.uint8)]), "RGBA").save(bb, "BMP")
    add("bmp32", "image32.bmp", bb.getvalue(), [])
    tb = io.BytesIO()
    Image.fromarray(synth(100, 140, 32)).save(tb, "TIFF", compression="tiff_lzw")
    add("tiff_lzw", "image.tiff", tb.getvalue(), [70])
    tb = io.BytesIO()
    Image.fromarray(synth(20, 30, 35)).save(tb, "TIFF", big_tiff=True)
    add("bigtiff", "big.tiff", tb.getvalue(), [])
    tb = io.BytesIO()
    Image.fromarray(synth(60, 90, 33)).save(tb, "TIFF", exif=exif_orientation_bytes(6))
    add("tiff_exif6", "exif6.tiff", tb.getvalue(), [70])

    # Every EXIF orientation, on a tiny lossless PNG (eXIf chunk) with distinct pixels.
    tiny = (np.arange(3 * 5 * 3).reshape(3, 5, 3) * 5).astype(np.uint8)
    for o in range(1, 9):
        add(f"orient{o}_png", f"orient{o}.png", raw_png(tiny, 2, 8, [(b"eXIf", exif_orientation_bytes(o))]), [])
    return imgs


# ----------------------------------------------------------------------------------------------
# The reference
# ----------------------------------------------------------------------------------------------
def reference_decode(data: bytes) -> np.ndarray:
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im)
    return convert_to_rgb(im, return_numpy=True)


def checksum(words: np.ndarray) -> str:
    """sum(word_i * (2 i + 1)) mod 2^64 over 32-bit words: exact and sensitive to order."""
    w = np.ascontiguousarray(words).reshape(-1).astype(np.uint64)
    k = np.arange(w.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    with np.errstate(over="ignore"):
        return "%016x" % int(np.sum(w * k, dtype=np.uint64))


def positions_of(gh: int, gw: int) -> np.ndarray:
    # Exactly the processor's construction (meshgrid "xy", stacked, reshaped).
    grid = torch.meshgrid(torch.arange(gw), torch.arange(gh), indexing="xy")
    return torch.stack(grid, dim=-1).reshape(gh * gw, 2).numpy()


def unpatchify(pv: np.ndarray, th: int, tw: int) -> np.ndarray:
    gh, gw = th // PATCH, tw // PATCH
    return pv.reshape(gh, gw, PATCH, PATCH, 3).transpose(0, 2, 1, 3, 4).reshape(th, tw, 3)


def run_official(proc, image_in, budget):
    out = proc(images=[image_in], max_soft_tokens=budget, return_tensors="pt")
    n_tok = int(out["num_soft_tokens_per_image"][0])
    pv = out["pixel_values"][0].numpy()
    pos = out["image_position_ids"][0].numpy()
    n = n_tok * POOL * POOL
    assert pv.shape == (budget * POOL * POOL, PATCH * PATCH * 3), pv.shape
    assert not pv[n:].any() and (pos[n:] == -1).all(), "padding rows must be zero / (-1, -1)"
    return pv[:n], pos[:n]


def run_direct(proc, image_in, budget):
    """The processor's own steps without its budget check, for budgets it refuses."""
    t = proc.process_image(image_in, do_convert_rgb=True)
    r = proc.aspect_ratio_preserving_resize(
        image=t, patch_size=PATCH, max_patches=budget * POOL * POOL, pooling_kernel_size=POOL,
        resample=tvF.InterpolationMode.BICUBIC)
    r = proc.rescale_and_normalize(r, True, proc.rescale_factor, False, proc.image_mean, proc.image_std)
    pv = convert_image_to_patches(r, PATCH).numpy()
    return pv, positions_of(r.shape[-2] // PATCH, r.shape[-1] // PATCH)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="tests/data/vision", help="data folder (images/ and image_reference/ go in it)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    img_dir = os.path.join(args.out, "images")
    ref_dir = os.path.join(args.out, "image_reference")
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ref_dir, exist_ok=True)

    # The class AutoImageProcessor picks for a Gemma 4 checkpoint (torchvision is installed).
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "preprocessor_config.json"), "w") as f:
            json.dump({"image_processor_type": "Gemma4ImageProcessor"}, f)
        auto_cls = type(AutoImageProcessor.from_pretrained(d)).__name__
    assert auto_cls == "Gemma4ImageProcessor", auto_cls
    proc = Gemma4ImageProcessor()
    proc_pil = Gemma4ImageProcessorPil()
    assert proc.do_normalize is False and proc.rescale_factor == 1 / 255

    report = {
        "versions": {
            "transformers": transformers.__version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "pillow": PIL.__version__, "numpy": np.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        },
        "processor": {"class": auto_cls, "patch_size": PATCH, "pooling_kernel_size": POOL,
                      "rescale_factor": proc.rescale_factor, "do_normalize": proc.do_normalize,
                      "resample": "BICUBIC, antialias=True (uint8 in, uint8 out)"},
        "checksum": "sum(word_i * (2 i + 1)) mod 2^64; pixel_values words are the float32 bit patterns in "
                    "row-major [patch][768] order, position words are x0, y0, x1, y1, ... as uint32",
        "images": {}, "cases": [], "sizing": [],
    }

    for spec in make_images():
        name, fname, data = spec["name"], spec["file"], spec["data"]
        with open(os.path.join(img_dir, fname), "wb") as f:
            f.write(data)
        decoded = reference_decode(data)
        entry = {"file": "images/" + fname, "bytes": len(data), "format": Image.open(io.BytesIO(data)).format,
                 "mode": Image.open(io.BytesIO(data)).mode}
        if "expected_override" in spec:
            entry["pil_decoded_checksum"] = checksum(decoded.astype(np.uint32))
            decoded = spec["expected_override"]
            entry["deviation"] = spec["override_reason"]
        entry["height"], entry["width"] = int(decoded.shape[0]), int(decoded.shape[1])
        entry["decoded_checksum"] = checksum(decoded.astype(np.uint32))
        if not spec.get("synthetic"):
            dec_name = f"decoded/{name}.png"
            os.makedirs(os.path.join(ref_dir, "decoded"), exist_ok=True)
            with open(os.path.join(ref_dir, dec_name), "wb") as f:
                f.write(png_bytes(decoded))
            entry["decoded"] = "image_reference/" + dec_name
        report["images"][name] = entry

        # The processor's input: the PIL image as load_image hands it over (EXIF applied) — it then
        # runs convert_to_rgb itself. Where we deviate from PIL's decode, our decoded array instead.
        pil_in = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        image_in = decoded if "expected_override" in spec else pil_in
        h, w = decoded.shape[:2]
        for budget in spec["budgets"]:
            th, tw = get_aspect_ratio_preserving_size(h, w, PATCH, budget * POOL * POOL, POOL)
            official = budget in OFFICIAL
            if official:
                pv, pos = run_official(proc, image_in, budget)
                pv2, pos2 = run_direct(proc, image_in, budget)
                assert np.array_equal(pv, pv2) and np.array_equal(pos, pos2), "direct path must equal the processor"
            else:
                pv, pos = run_direct(proc, image_in, budget)
            resized = np.rint(unpatchify(pv, th, tw) * 255).astype(np.uint8)
            # pixel_values are exactly uint8 * float32(1/255): the resized image is recovered exactly.
            assert np.array_equal(pv, (resized.reshape(-1, 3).astype(np.float32) * np.float32(1 / 255))
                                  .reshape(th // PATCH, PATCH, tw // PATCH, PATCH, 3).transpose(0, 2, 1, 3, 4)
                                  .reshape(pv.shape)), "rescale is float32(u8) * float32(1/255)"
            assert np.array_equal(pos, positions_of(th // PATCH, tw // PATCH))
            case = {"image": name, "budget": budget, "official": official, "height": th, "width": tw,
                    "soft_tokens": (th // 48) * (tw // 48), "patches": int(pv.shape[0]),
                    "resize_skipped": (th, tw) == (h, w),
                    "pixel_values_checksum": checksum(pv.view(np.uint32)),
                    "pixel_values_sum": float(pv.astype(np.float64).sum()),
                    "position_ids_checksum": checksum(pos.astype(np.uint32)),
                    "position_ids_first": pos[:3].tolist(), "position_ids_last": pos[-1].tolist()}
            # The resized pixels themselves, where they stay small in PNG (every downscale, and
            # upscales up to 0.4 megapixels); the larger upscales are checked by checksum only.
            if th * tw <= 400_000 or th * tw < h * w:
                rname = f"resized/{name}_b{budget}.png"
                os.makedirs(os.path.join(ref_dir, "resized"), exist_ok=True)
                with open(os.path.join(ref_dir, rname), "wb") as f:
                    f.write(png_bytes(resized))
                case["resized"] = "image_reference/" + rname
            if name == "tiny_5x7" and budget == 3:
                fv = f"pixel_values/{name}_b{budget}.f32"
                os.makedirs(os.path.join(ref_dir, "pixel_values"), exist_ok=True)
                with open(os.path.join(ref_dir, fv), "wb") as f:
                    f.write(pv.astype("<f4").tobytes())
                case["pixel_values_f32"] = "image_reference/" + fv
                case["position_ids"] = pos.tolist()
            if official:
                out = proc_pil(images=[image_in], max_soft_tokens=budget, return_tensors="np")
                ppv = out["pixel_values"][0][: pv.shape[0]]
                pres = np.rint(unpatchify(ppv, th, tw) * 255).astype(np.int16)
                diff = np.abs(pres - resized.astype(np.int16))
                case["pil_backend_vs_reference"] = {"max_diff": int(diff.max()), "values_differing": int((diff > 0).sum()),
                                                    "values": int(diff.size)}
            report["cases"].append(case)
            print(f"{name:28s} {h}x{w} B={budget:5d} -> {th}x{tw} ({case['soft_tokens']} tokens)", flush=True)

    # The sizing rule: the spec §3.2 table, then edges (thin strips, 1-pixel sides, other budgets).
    shapes = [(1000, 1000), (768, 1024), (1080, 1920), (224, 224), (1, 1), (5, 7), (2160, 3840), (1, 100000),
              (100000, 1), (20, 2000), (2000, 20), (3, 1000), (1, 47), (47, 1), (10000, 10000), (65535, 65535),
              (1, 65535), (48, 48), (49, 47), (16, 16)]
    for (h, w) in shapes:
        for budget in (*OFFICIAL, 1, 2, 3, 7, 100, 500, 1000):
            try:
                th, tw = get_aspect_ratio_preserving_size(h, w, PATCH, budget * POOL * POOL, POOL)
                report["sizing"].append({"height": h, "width": w, "budget": budget, "target": [th, tw],
                                         "soft_tokens": (th // 48) * (tw // 48)})
            except ValueError as e:
                report["sizing"].append({"height": h, "width": w, "budget": budget, "error": str(e)})

    with open(os.path.join(ref_dir, "image_reference.json"), "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
