#!/usr/bin/env python3
"""Reference token ids for the C++ BPE tokenizer, from Hugging Face `tokenizers`.

Writes tests/data/tokenizer/goldens_<name>.json for
  tiny     -- tests/data/tokenizer/tiny_tokenizer.json (the make-test-model e2b tokenizer),
  tiny_spm -- tests/data/tokenizer/tiny_tokenizer.model (the same vocabulary as a SentencePiece model,
              made by make_spm_model.py) as transformers' GemmaTokenizer loads it from a folder with
              no tokenizer.json; each case says whether its ids equal the tiny tokenizer.json ones, and
  gemma3   -- ../shared/fixtures/gemma3-tokenizer/tokenizer.json (the real 262k vocabulary; the file
              itself is not copied into the repository), when present.

Each file: {"tokenizer": ..., "tokenizers_version": ..., "cases": [{"name", "text", "ids",
"ids_no_special", "decoded"}], "decode_cases": [{"name", "ids", "text"}]}.
  ids            -- tok.encode(text, add_special_tokens=False).ids (no BOS)
  ids_no_special -- the same with tok.encode_special_tokens = True (special tokens as plain text)
  decoded        -- tok.decode(ids, skip_special_tokens=False)

Invalid UTF-8 cannot be given to `tokenizers` (it takes Python str, which must be encodable as
UTF-8), so there is no golden for it: the C++ tests check our own rule (each invalid byte becomes
its <0xNN> byte token) separately.

Usage: /work/venv/bin/python tools/reference/make_tokenizer_goldens.py
"""
import json
import os
import random
import shutil
import sys
import tempfile

from tokenizers import Tokenizer
import tokenizers

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "tokenizer")
GEMMA3 = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "gemma3-tokenizer", "tokenizer.json")


def long_paragraph(n_chars=20000):
    rng = random.Random(1234)
    words = ("the capital of France is Paris and Gemma is a model that runs offline on your desk "
             "tokenizer merges bytes unicode whitespace newline function return value").split()
    code = [
        "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
        "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
        "  const auto x = std::vector<int32_t>{1, 2, 3};  // comment\r\n",
        "<div class=\"x\"><span>Hello</span></div>\n\n",
        "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;\n",
    ]
    out = []
    size = 0
    while size < n_chars:
        if rng.random() < 0.15:
            s = rng.choice(code)
        else:
            k = rng.randint(5, 25)
            s = " ".join(rng.choice(words) for _ in range(k))
            s = s[0].upper() + s[1:] + rng.choice([". ", ".\n", "! ", "? ", ", 42 ", ".\n\n"])
        out.append(s)
        size += len(s)
    return "".join(out)[:n_chars]


def corpus():
    rng = random.Random(7)
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return [
        ("empty", ""),
        ("one_space", " "),
        ("spaces", "     "),
        ("hello", "Hello world"),
        ("leading_trailing", "  The capital of France  "),
        ("tabs", "a\tb\t\tc\t\t\t d"),
        ("newlines", "line1\nline2\n\nline3\n\n\n\nend\n"),
        ("crlf", "one\r\ntwo\r\n\r\nthree\r"),
        ("mixed_ws", " \t \n \r\n\t\t  \n\n \t"),
        ("many_newlines", "\n" * 40 + "x" + "\n" * 33),
        ("many_spaces", "a" + " " * 70 + "b"),
        ("literal_space_marks", "\u2581\u2581x \u2581 y"),
        ("accents", "Café naïve façade résumé Ångström"),
        ("combining", "e\u0301 a\u0308 n\u0303o\u0327"),
        ("cjk", "中文分词测试，日本語のテキスト、한국어 텍스트"),
        ("rtl", "مرحبا بالعالم שלום עולם"),
        ("emoji", "I ❤️ 🍕 and 🚀!"),
        ("emoji_zwj", "👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈"),
        ("flags", "🇫🇷🇯🇵🇺🇸"),
        ("rare_chars", "\U0001F9FF\U00010348\U0001D11E \u0f3a\u2fff\U000E0041 \x00\x01\x7f"),
        ("private_use", "\ue000\U000F0000\U0010FFFD"),
        ("special_alone", "<bos>"),
        ("special_glued", "<|turn>user\nHi<turn|>"),
        ("chat", "<bos><|turn>system\n<|think|>You are helpful.<turn|>\n<|turn>user\nWhat is 2+2?<turn|>\n<|turn>model\n"),
        ("user_defined", "<|channel>thought\nhmm<channel|>answer<|\"|>x<|\"|>"),
        ("tool", "<|tool_call>call:f{a:<|\"|>b<|\"|>}<tool_call|><|tool_response>"),
        ("partial_special", "<|tur <turn| <|turn <bo <eos <|image|"),
        ("special_adjacent", "<eos><eos><bos><pad>x<mask>"),
        ("gemma3_specials", "<start_of_turn>user\nhi<end_of_turn>\n<start_of_image><unused0><table><td>"),
        ("html_tags", "<div><span>a</span></div>\n\t\t<b>bold</b>"),
        ("digits", "0 1 12 123 1234 12345 3.14159 -42 1e10 2026-11-22 0x1F"),
        ("code", "int main(int argc, char** argv) {\n    printf(\"%d\\n\", argc);\n    return 0;\n}\n"),
        ("python", "def f(x):\n\treturn [i**2 for i in range(x) if i % 2 == 0]  # squares\n"),
        ("punct", "!!! ??? ... --- *** ((( ))) [[[ ]]] {{{ }}} \"quoted\" 'single' `tick`"),
        ("long_one_letter", "a" * 5000),
        ("long_alnum", "".join(rng.choice(alnum) for _ in range(2000))),
        ("long_spaces_words", ("word " * 1000).strip()),
        ("paragraph_20k", long_paragraph()),
        # Added for the tokenizer front door (issue 3): more whitespace, Unicode and special-token edges.
        ("newline_runs_mixed", "a\n\n\n\n\nb\n \n\n\t\n\r\n\r\n\r\n\nc"),
        ("leading_newlines", "\n\n  \n x"),
        ("trailing_newlines", "end\n\n\n"),
        ("only_crlf", "\r\n"),
        ("only_tab", "\t"),
        ("unicode_spaces", "a\u00a0b\u2009c\u3000d\u200be\ufefff\u2028g\u0085h"),
        ("emoji_keycap_skin", "👍🏿 1️⃣ #️⃣ 🧑‍🤝‍🧑 ❤️‍🔥"),
        ("rtl_digits", "العدد ١٢٣ and עברית 456, ‏mark‎"),
        ("combining_stack", "Z\u0324\u0354\u0367\u0311\u0313a\u0308\u0356\u032d\u0308\u0307l"),
        ("byte_fallback_mix", "x\u0100y\U0001F600z\u00ff"),
        ("special_in_words", "abc<bos>def<eos>ghi<|turn>jkl<|channel>mno"),
        ("special_in_spaces", "  <bos>  <eos>\n<pad>\n"),
        ("special_nested", "<<bos>> <|<|turn>|> <bos<eos>>"),
        ("unused_pieces", "<unused0><unused61><unused999>"),
        ("long_word_mixed", ("Supercalifragilistic\u00e9xpialidocious" * 160)[:6000]),
        ("long_cjk_run", "中文分词测试日本語のテキスト" * 200),
        ("long_url", "https://example.com/" + "a1B2-c3_d4~" * 400),
        ("long_byte_fallback_run", "\u0100\u0101\u0102" * 700),
    ]


def decode_corpus(tok):
    def ids_of(pieces):
        out = []
        for p in pieces:
            i = tok.token_to_id(p)
            if i is None:
                return None
            out.append(i)
        return out

    cases = [
        ("bytes_valid", ["<0xE4>", "<0xB8>", "<0xAD>"]),
        ("bytes_truncated", ["<0xE4>", "<0xB8>"]),
        ("bytes_invalid_run", ["<0xE4>", "<0xB8>", "<0xAD>", "<0xFF>", "a"]),
        ("bytes_split_by_text", ["<0xE4>", "a", "<0xB8>", "<0xAD>"]),
        ("bytes_lone_continuation", ["<0x80>"]),
        ("space_mark", ["\u2581", "a", "\u2581", "\u2581"]),
        ("specials", ["<bos>", "<eos>", "<pad>"]),
        ("bytes_ascii", ["<0x41>", "<0x20>", "<0x0A>"]),
    ]
    out = []
    for name, pieces in cases:
        ids = ids_of(pieces)
        if ids is None:
            continue
        out.append({"name": name, "ids": ids, "text": tok.decode(ids, skip_special_tokens=False)})
    return out


def load_json_tokenizer(path):
    return Tokenizer.from_file(path)


def load_spm_tokenizer(model_path):
    """What transformers builds from a folder holding only tokenizer.model: GemmaTokenizer converts the
    SentencePiece vocabulary to a `tokenizers` BPE (merges generated from the pieces, control and
    user-defined pieces as added tokens). Its backend tokenizer is returned."""
    from transformers import GemmaTokenizer

    with tempfile.TemporaryDirectory() as d:
        shutil.copy(model_path, os.path.join(d, "tokenizer.model"))
        tok = GemmaTokenizer.from_pretrained(d)
    return tok.backend_tokenizer


def make(name, source, tok, compare_with=None):
    """Writes goldens_<name>.json. `compare_with`: the goldens of another tokenizer over the same corpus;
    each case then records whether the ids are the same ("same_ids_as": that tokenizer's name)."""
    plain = Tokenizer.from_str(tok.to_str())
    plain.encode_special_tokens = True
    other = {c["name"]: c for c in compare_with["cases"]} if compare_with else {}
    cases = []
    for cname, text in corpus():
        ids = tok.encode(text, add_special_tokens=False).ids
        case = {
            "name": cname,
            "text": text,
            "ids": ids,
            "ids_no_special": plain.encode(text, add_special_tokens=False).ids,
            "decoded": tok.decode(ids, skip_special_tokens=False),
        }
        if compare_with:
            case["same_ids_as_" + compare_with["tokenizer"]] = other[cname]["ids"] == ids
        cases.append(case)
    doc = {
        "tokenizer": name,
        "source": source,
        "tokenizers_version": tokenizers.__version__,
        "vocab_size": tok.get_vocab_size(with_added_tokens=True),
        "cases": cases,
        "decode_cases": decode_corpus(tok),
    }
    if name.endswith("spm"):
        import transformers
        doc["transformers_version"] = transformers.__version__
    out = os.path.join(DATA, f"goldens_{name}.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    note = ""
    if compare_with:
        same = sum(c["same_ids_as_" + compare_with["tokenizer"]] for c in cases)
        note = f" ({same} with the same ids as {compare_with['tokenizer']})"
    print(f"wrote {out}: {len(cases)} cases{note}")
    return doc


def main():
    tiny = make("tiny", "tests/data/tokenizer/tiny_tokenizer.json",
                load_json_tokenizer(os.path.join(DATA, "tiny_tokenizer.json")))
    # The same vocabulary as a SentencePiece model (tools/reference/make_spm_model.py), through transformers.
    make("tiny_spm", "tests/data/tokenizer/tiny_tokenizer.model via transformers GemmaTokenizer",
         load_spm_tokenizer(os.path.join(DATA, "tiny_tokenizer.model")), compare_with=tiny)
    if os.path.exists(GEMMA3):
        make("gemma3", "../shared/fixtures/gemma3-tokenizer/tokenizer.json", load_json_tokenizer(GEMMA3))
    else:
        print(f"skipping gemma3: {GEMMA3} is absent", file=sys.stderr)


if __name__ == "__main__":
    main()
