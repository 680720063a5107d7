#!/usr/bin/env python3
"""A SentencePiece tokenizer.model holding the same vocabulary as a Gemma-style tokenizer.json.

Writes tests/data/tokenizer/tiny_tokenizer.model from tests/data/tokenizer/tiny_tokenizer.json (the
make-test-model vocabulary), so the engine's SentencePiece path (an HF folder with tokenizer.model and
no tokenizer.json) can be tested against transformers on a small file.

The construction, piece by piece in id order (a SentencePiece id is the piece's position):
  type   special added token -> CONTROL (the unk token -> UNKNOWN), other added token -> USER_DEFINED,
         "<0xNN>" -> BYTE, "<unusedN>" -> UNUSED, everything else NORMAL;
  score  -id for NORMAL pieces, 0 otherwise. SentencePiece's BPE merges the adjacent pair whose
         concatenation has the highest score, and transformers' converter ranks the merges it
         generates by the id of the merged piece (tokenization_utils_base.generate_merges), so both
         prefer lower ids. In the tiny vocabulary merged pieces are numbered in merge order, so the
         preference also follows tokenizer.json's merge ranks;
  normalizer "identity" with escape_whitespaces (" " -> U+2581), no dummy prefix, no whitespace
         folding: what Gemma's own tokenizer.model files use (GEMMA4.md section 5.1);
  trainer_spec BPE with byte_fallback and the Gemma names of unk/bos/eos/pad.
What the two files may still disagree on: transformers' converter makes a merge of every split of a
piece into two pieces, where tokenizer.json has only the merge that was learned (see
make_tokenizer_goldens.py, which records where the ids differ).

Usage: /work/venv/bin/python tools/reference/make_spm_model.py
"""
import json
import os
import re

from sentencepiece import sentencepiece_model_pb2 as pb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")

BYTE = re.compile(r"^<0x[0-9A-F]{2}>$")
UNUSED = re.compile(r"^<unused[0-9]+>$")


def spm_model_from_tokenizer_json(tj):
    model = tj["model"]
    assert model["type"] == "BPE" and model.get("byte_fallback"), "a Gemma-style BPE tokenizer.json"
    pieces = {i: p for p, i in model["vocab"].items()}
    added = {a["id"]: a for a in tj.get("added_tokens", [])}
    for i, a in added.items():
        pieces[i] = a["content"]
    n = len(pieces)
    assert sorted(pieces) == list(range(n)), "ids must be 0..n-1"
    unk = model.get("unk_token") or "<unk>"

    m = pb.ModelProto()
    T = pb.ModelProto.SentencePiece
    for i in range(n):
        p = pieces[i]
        sp = m.pieces.add()
        sp.piece = p
        sp.score = 0.0
        if p == unk:
            sp.type = T.UNKNOWN
        elif i in added:
            sp.type = T.CONTROL if added[i].get("special") else T.USER_DEFINED
        elif BYTE.match(p):
            sp.type = T.BYTE
        elif UNUSED.match(p):
            sp.type = T.UNUSED
        else:
            sp.type = T.NORMAL
            sp.score = -float(i)

    ts = m.trainer_spec
    ts.model_type = pb.TrainerSpec.BPE
    ts.vocab_size = n
    ts.byte_fallback = True
    ts.unk_piece, ts.bos_piece, ts.eos_piece, ts.pad_piece = unk, "<bos>", "<eos>", "<pad>"
    ids = {p: i for i, p in pieces.items()}
    ts.unk_id, ts.bos_id, ts.eos_id, ts.pad_id = ids[unk], ids.get("<bos>", -1), ids.get("<eos>", -1), ids.get("<pad>", -1)
    ts.unk_surface = unk

    ns = m.normalizer_spec
    ns.name = "identity"
    ns.add_dummy_prefix = False
    ns.remove_extra_whitespaces = False
    ns.escape_whitespaces = True
    return m.SerializeToString()


def main():
    with open(os.path.join(DATA, "tiny_tokenizer.json"), encoding="utf-8") as f:
        tj = json.load(f)
    out = os.path.join(DATA, "tiny_tokenizer.model")
    data = spm_model_from_tokenizer_json(tj)
    with open(out, "wb") as f:
        f.write(data)
    print(f"wrote {out}: {len(data)} bytes")


if __name__ == "__main__":
    main()
