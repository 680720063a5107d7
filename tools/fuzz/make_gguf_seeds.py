#!/usr/bin/env python3
"""Writes the seed corpus of the GGUF fuzzer (tests/fuzz/corpus/fuzz_gguf/) with gguf-py, an
independent GGUF writer, so the fuzzer starts from files our own writer did not make.

usage: make_gguf_seeds.py TINY_TEXT_GGUF TINY_MMPROJ_GGUF OUT_DIR
(the inputs are tiny test models from `gemmadesk-cli make-test-model --variant e2b`)."""
import sys

import numpy as np
import gguf


def copy_metadata(reader, writer, skip=()):
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name in ("general.architecture",) or name in skip:
            continue
        vtype = field.types[0]
        value = field.contents()
        if vtype == gguf.GGUFValueType.ARRAY:
            writer.add_key_value(name, value, vtype, sub_type=field.types[-1])
        else:
            writer.add_key_value(name, value, vtype)


def main():
    text, mmproj, out = sys.argv[1:4]
    r = gguf.GGUFReader(text)
    # 1. The whole metadata of a tiny Gemma 4 model (tokenizer included) and its smallest tensors.
    w = gguf.GGUFWriter(f"{out}/tiny_e2b_small_tensors.gguf", "gemma4")
    copy_metadata(r, w, skip=("tokenizer.ggml.merges", "tokenizer.chat_template"))
    for t in r.tensors:
        if t.n_elements <= 256:
            w.add_tensor(t.name, np.array(t.data), raw_shape=list(reversed([int(x) for x in t.shape])))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    # 2. Metadata only (no tokenizer), so mutations reach the config parser quickly.
    w = gguf.GGUFWriter(f"{out}/tiny_e2b_metadata.gguf", "gemma4")
    copy_metadata(r, w, skip=tuple(k for k in r.fields if k.startswith("tokenizer.")))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    # 3. The mmproj metadata.
    m = gguf.GGUFReader(mmproj)
    w = gguf.GGUFWriter(f"{out}/tiny_e2b_mmproj_metadata.gguf", "clip")
    copy_metadata(m, w)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    # 4. Quantized blocks of several types, and every metadata value type.
    w = gguf.GGUFWriter(f"{out}/types.gguf", "test")
    w.add_uint8("a.u8", 7); w.add_int8("a.i8", -7); w.add_uint16("a.u16", 700); w.add_int16("a.i16", -700)
    w.add_uint32("a.u32", 70000); w.add_int32("a.i32", -70000); w.add_float32("a.f32", 0.5)
    w.add_uint64("a.u64", 1 << 40); w.add_int64("a.i64", -(1 << 40)); w.add_float64("a.f64", 0.25)
    w.add_bool("a.bool", True); w.add_string("a.str", "text")
    w.add_array("a.arr", [1, 2, 3]); w.add_array("a.strs", ["x", "yz"])
    rng = np.random.default_rng(0)
    w.add_tensor("f32", rng.standard_normal((2, 8)).astype(np.float32))
    w.add_tensor("f16", rng.standard_normal((2, 8)).astype(np.float16))
    for qt in (gguf.GGMLQuantizationType.Q8_0, gguf.GGMLQuantizationType.Q4_0, gguf.GGMLQuantizationType.Q5_1):
        x = rng.standard_normal((1, 256)).astype(np.float32)
        q = gguf.quants.quantize(x, qt)
        w.add_tensor(qt.name.lower(), q, raw_shape=q.shape, raw_dtype=qt)
    # gguf-py cannot quantize K-quants: random block bytes (with small f16 scales) are as good for parsing.
    for qt, nbytes in ((gguf.GGMLQuantizationType.Q4_K, 144), (gguf.GGMLQuantizationType.Q6_K, 210),
                       (gguf.GGMLQuantizationType.IQ4_XS, 136)):
        b = rng.integers(0, 256, size=(1, nbytes), dtype=np.uint8)
        w.add_tensor(qt.name.lower(), b, raw_shape=b.shape, raw_dtype=qt)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


if __name__ == "__main__":
    main()
