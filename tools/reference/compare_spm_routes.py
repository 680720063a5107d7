#!/usr/bin/env python3
"""Why the engine prefers tokenizer.json to tokenizer.model when a folder has both (an experiment).

Builds a SentencePiece model (a stand-in: Google's own file is not in the fixtures) from the real Gemma 3 vocabulary (../shared/fixtures/gemma3-tokenizer/
tokenizer.json, with make_spm_model.py's construction) and tokenizes the goldens corpus three ways:
  json -- `tokenizers` on the published tokenizer.json (what transformers loads when it is there),
  spm  -- libsentencepiece on the .model, after splitting on added tokens (the engine's .model path),
  conv -- transformers' GemmaTokenizer converting the .model on the fly (the reference for a folder
          that has only tokenizer.model).
It prints every case where they differ. Observed with transformers 5.23: only long runs of spaces
("many_spaces", 70 spaces) differ, and there json == spm while conv differs, because the converter
ranks generated merges by piece id and treats the user-defined whitespace pieces ("▁▁", ...) as added
tokens matched on raw text only, where SentencePiece matches them on the normalized text.

Usage: /work/venv/bin/python tools/reference/compare_spm_routes.py   (about a minute)
"""
import json
import os
import re
import sys
import tempfile

import sentencepiece as spm
from tokenizers import Tokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_goldens as goldens  # noqa: E402
from make_spm_model import spm_model_from_tokenizer_json  # noqa: E402


def main():
    with open(goldens.GEMMA3, encoding="utf-8") as f:
        tj = json.load(f)
    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "tokenizer.model")
        with open(model, "wb") as f:
            f.write(spm_model_from_tokenizer_json(tj))
        sp = spm.SentencePieceProcessor(model_file=model)
        conv = goldens.load_spm_tokenizer(model)
    js = Tokenizer.from_file(goldens.GEMMA3)
    added = sorted((a["content"] for a in tj["added_tokens"]), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(a) for a in added))  # leftmost-longest

    def spm_ids(text):
        out, pos = [], 0
        for m in pattern.finditer(text):
            out += sp.encode(text[pos:m.start()]) + [sp.piece_to_id(m.group())]
            pos = m.end()
        return out + sp.encode(text[pos:])

    differ = 0
    for name, text in goldens.corpus():
        a = js.encode(text, add_special_tokens=False).ids
        b = spm_ids(text)
        c = conv.encode(text, add_special_tokens=False).ids
        if a != b or a != c:
            differ += 1
            print(f"{name}: json==spm {a == b}, json==conv {a == c}, spm==conv {b == c}")
            for label, ids, tok in (("json", a, js), ("spm", b, None), ("conv", c, conv)):
                pieces = [sp.id_to_piece(i) if tok is None else tok.id_to_token(i) for i in ids]
                print(f"  {label:5}{pieces[:12]}")
    print(f"{differ} of {len(goldens.corpus())} cases differ")


if __name__ == "__main__":
    main()
