#!/usr/bin/env python3
"""Tables of run_bench.sh's results: gd-<model>.json (gemmadesk-bench), llama-<model>.json (llama-bench
prefill) and llama-<model>-tg.json (llama-bench decode after the first prompt length) in one folder ->
markdown on stdout. Standard library only."""
import glob
import json
import os
import sys

# Issue 9's decode targets, as fractions of the roofline (Q4 models).
TARGETS = {"31b": 0.85, "e2b": 0.70, "e4b": 0.70, "26b-a4b": 0.70}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def llama_speeds(rows):
    """{('pp', 512): t/s, ('tg', 128): t/s} from llama-bench's JSON list."""
    out = {}
    for r in rows or []:
        if r.get("n_gen", 0) == 0:
            out[("pp", r["n_prompt"])] = r["avg_ts"]
        elif r.get("n_prompt", 0) == 0:
            out[("tg", r["n_gen"])] = r["avg_ts"]
    return out


def fmt(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    return None if not a or not b else a / b


def main(folder):
    names = sorted(os.path.basename(p)[3:-5] for p in glob.glob(os.path.join(folder, "gd-*.json"))
                   if not p.endswith("-eager.json"))
    rows, towers = [], []
    ceilings = (load(os.path.join(folder, "ceilings.json")) or {}).get("ceilings")
    lengths = []
    for name in names:
        gd = load(os.path.join(folder, f"gd-{name}.json"))
        if not gd:
            continue
        ceilings = ceilings or gd.get("ceilings")
        lengths = lengths or [p["tokens"] for p in gd["prefill"]]
        ll = llama_speeds((load(os.path.join(folder, f"llama-{name}.json")) or []) +
                          (load(os.path.join(folder, f"llama-{name}-tg.json")) or []))
        eager = load(os.path.join(folder, f"gd-{name}-eager.json"))
        pp = {p["tokens"]: p["tokens_per_second"] for p in gd["prefill"]}
        tg = gd["gen_tokens_per_second"]
        ll_tg = ll.get(("tg", gd.get("gen_tokens", 128)))
        roof = gd.get("roofline_tokens_per_second")
        variant, _, wtype = name.rpartition("-")
        target = TARGETS.get(variant) if wtype.startswith("q4") else None
        frac = gd.get("roofline_fraction")
        cells = [name, f"{gd['weight_bytes_per_token'] / 1e9:.3f}"]
        for n in lengths:
            cells += [fmt(pp.get(n), 0), fmt(ll.get(("pp", n)), 0), fmt(ratio(pp.get(n), ll.get(("pp", n))), 2)]
        cells += [fmt(tg), fmt(eager["gen_tokens_per_second"] if eager else None), fmt(ll_tg), fmt(ratio(tg, ll_tg), 2),
                  fmt(roof),
                  "–" if frac is None else f"{100 * frac:.0f}%" +
                  ("" if target is None else (" ✓" if frac >= target else f" (target {100 * target:.0f}%)")),
                  "–" if not roof or not ll_tg else f"{100 * ll_tg / roof:.0f}%"]
        rows.append("| " + " | ".join(cells) + " |")
        images = {i["budget"]: i["ms"] for i in gd.get("images", [])}
        mem = gd.get("gpu_used_bytes") or gd.get("peak_rss_bytes")
        towers.append("| {} | {} | {} | {} | {:.2f} |".format(
            name, " | ".join(fmt(images.get(b)) for b in (70, 140, 280, 560, 1120)),
            fmt(gd["audio"]["ms"]) if "audio" in gd else "–",
            fmt(gd["ttft_image"]["ms"]) if "ttft_image" in gd else "–", mem / 2**30))
    print(f"Results in {folder}\n")
    if ceilings:
        print("| ceiling | measured |\n|---|---|")
        print(f"| copy (bytes read + written) | {ceilings['copy_gb_per_s']:.0f} GB/s |")
        print(f"| bf16 product through the backend | {ceilings['bf16_tflops']:.1f} TFLOP/s |\n")
    head = ["model", "GB read / token"]
    for n in lengths:
        head += [f"pp{n}", "llama.cpp", "ratio"]
    head += [f"tg (after pp{lengths[0] if lengths else '?'})", "tg eager", "llama.cpp", "ratio", "roofline t/s",
             "of roofline", "llama.cpp of roofline"]
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 1))
    print("\n".join(rows))
    print("\n| model | image 70 ms | 140 | 280 | 560 | 1120 | audio 30 s ms | TTFT 1120-token image + 50 tokens ms | "
          "peak memory GiB |")
    print("|---|" + "---:|" * 8)
    print("\n".join(towers))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("OUT", "/tmp/gd-out"))
