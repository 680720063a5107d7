// GGUF reader: the real llama.cpp fixture, every metadata type, version 2, and malformed files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "format/quant/quant.h"
#include "support/test_support.h"

namespace gd {
namespace {

std::string fixture() { return test::data_dir() + "/llamacpp/tiny-e2b.gguf"; }

TEST(GgufReader, ReadsLlamaCppFixtureMetadata) {
    const GgufFile f = GgufFile::open(fixture());
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.architecture(), "gemma4");
    EXPECT_EQ(f.get_int_opt("gemma4.block_count"), 10);
    EXPECT_EQ(f.get_int_opt("gemma4.embedding_length"), 128);
    EXPECT_EQ(f.get_int_opt("gemma4.attention.head_count"), 4);
    EXPECT_EQ(f.get_int_opt("gemma4.attention.sliding_window"), 16);
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gemma4");
    const GgufValue& tokens = f.get("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens.type, GgufType::ARRAY);
    EXPECT_EQ(tokens.elem_type, GgufType::STRING);
    ASSERT_EQ(tokens.array.size(), 580u);
    EXPECT_EQ(tokens.array[0].as_string(), "<pad>");
    EXPECT_EQ(tokens.array[5].as_string(), "<|turn>");
    // Per-layer arrays (feed_forward_length is one per layer on E2B: double-wide shared layers).
    const GgufValue& ffn = f.get("gemma4.feed_forward_length");
    ASSERT_EQ(ffn.type, GgufType::ARRAY);
    ASSERT_EQ(ffn.array.size(), 10u);
    EXPECT_EQ(ffn.array[0].as_int(), 256);
    EXPECT_EQ(ffn.array[9].as_int(), 512);
    const GgufValue& swa = f.get("gemma4.attention.sliding_window_pattern");
    ASSERT_EQ(swa.array.size(), 10u);
    EXPECT_TRUE(swa.array[0].as_bool());
    EXPECT_FALSE(swa.array[4].as_bool());
}

TEST(GgufReader, ReadsLlamaCppFixtureTensors) {
    const GgufFile f = GgufFile::open(fixture());
    const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->type, DType::F32);
    const TensorView v = f.view(*emb);
    EXPECT_EQ(v.shape, (std::vector<uint64_t>{580, 128}));  // PyTorch order: [vocab, n_embd]
    EXPECT_EQ(v.nbytes, 580u * 128u * 4u);
    // No attn_v on global layers (K=V) and no K/V on shared layers, as the fixture README says.
    EXPECT_EQ(f.find_tensor("blk.4.attn_v.weight"), nullptr);
    EXPECT_NE(f.find_tensor("blk.4.attn_k.weight"), nullptr);
    EXPECT_NE(f.find_tensor("blk.3.attn_v.weight"), nullptr);
    const GgufTensorInfo* freqs = f.find_tensor("rope_freqs.weight");
    ASSERT_NE(freqs, nullptr);
    const TensorView fv = f.view(*freqs);
    ASSERT_EQ(fv.elements(), 16u);
    float rf[16];
    std::memcpy(rf, fv.data, sizeof rf);
    for (int k = 0; k < 4; ++k) EXPECT_EQ(rf[k], 1.0f);
    for (int k = 4; k < 16; ++k) EXPECT_GT(rf[k], 1e29f);
    for (const auto& t : f.tensor_infos())
        EXPECT_EQ((f.data_offset() + t.offset) % f.alignment(), 0u) << t.name;
}

// The data we read for token_embd is the data llama.cpp used: its scaled input embeddings are our
// rows times sqrt(128).
TEST(GgufReader, FixtureEmbeddingRowsMatchLlamaCppTrace) {
    const GgufFile f = GgufFile::open(fixture());
    const auto trace = nlohmann::json::parse(std::ifstream(test::data_dir() + "/llamacpp/inp_scaled_first3.json"));
    const TensorView emb = f.view(*f.find_tensor("token_embd.weight"));
    const int n_embd = trace["n_embd"];
    std::vector<float> row(static_cast<size_t>(n_embd));
    for (size_t p = 0; p < trace["prompt_ids"].size(); ++p) {
        const int id = trace["prompt_ids"][p];
        dequantize_row(emb.type, emb.data + dtype_bytes(emb.type, static_cast<uint64_t>(id) * n_embd), row.data(), row.size());
        for (int c = 0; c < n_embd; ++c) {
            const float w = row[static_cast<size_t>(c)];
            const float expect = trace["inp_scaled"][p][c];
            EXPECT_NEAR(w * std::sqrt(128.0f), expect, 1e-5f * std::max(1.0f, std::fabs(expect))) << "pos " << p << " col " << c;
        }
    }
}

// Builds a version-2 file by hand (same layout as v3 for little-endian files) with every value type.
std::vector<uint8_t> hand_built_v2() {
    std::vector<uint8_t> b;
    auto put = [&](const void* p, size_t n) { b.insert(b.end(), (const uint8_t*)p, (const uint8_t*)p + n); };
    auto u32 = [&](uint32_t v) { put(&v, 4); };
    auto u64 = [&](uint64_t v) { put(&v, 8); };
    auto str = [&](const std::string& s) { u64(s.size()); put(s.data(), s.size()); };
    put("GGUF", 4);
    u32(2);
    u64(1);   // tensors
    u64(14);  // kv
    str("k.u8"); u32(0); b.push_back(200);
    str("k.i8"); u32(1); b.push_back(0x80);  // -128
    str("k.u16"); u32(2); { uint16_t v = 65535; put(&v, 2); }
    str("k.i16"); u32(3); { int16_t v = -300; put(&v, 2); }
    str("k.u32"); u32(4); u32(4000000000u);
    str("k.i32"); u32(5); { int32_t v = -70000; put(&v, 4); }
    str("k.f32"); u32(6); { float v = 0.25f; put(&v, 4); }
    str("k.bool"); u32(7); b.push_back(1);
    str("k.str"); u32(8); str("héllo");
    str("k.u64"); u32(10); u64(1ull << 40);
    str("k.i64"); u32(11); { int64_t v = -(1ll << 40); put(&v, 8); }
    str("k.f64"); u32(12); { double v = -1.5; put(&v, 8); }
    // array of 2 arrays of uint16
    str("k.nested"); u32(9); u32(9); u64(2);
    u32(2); u64(2); { uint16_t a[2] = {1, 2}; put(a, 4); }
    u32(2); u64(1); { uint16_t a[1] = {3}; put(a, 2); }
    str("k.strings"); u32(9); u32(8); u64(2); str("a"); str("");
    // one f32 tensor [2, 3] (ne = {3, 2})
    str("t"); u32(2); u64(3); u64(2); u32(0); u64(0);
    while (b.size() % 32) b.push_back(0);
    for (int k = 0; k < 6; ++k) { float v = static_cast<float>(k); put(&v, 4); }
    return b;
}

TEST(GgufReader, ParsesEveryMetadataTypeInVersion2) {
    const auto bytes = hand_built_v2();
    const GgufFile f = GgufFile::parse(bytes, "v2");
    EXPECT_EQ(f.version(), 2u);
    EXPECT_EQ(f.get("k.u8").as_uint(), 200u);
    EXPECT_EQ(f.get("k.i8").as_int(), -128);
    EXPECT_EQ(f.get("k.u16").as_uint(), 65535u);
    EXPECT_EQ(f.get("k.i16").as_int(), -300);
    EXPECT_EQ(f.get("k.u32").as_uint(), 4000000000u);
    EXPECT_EQ(f.get("k.i32").as_int(), -70000);
    EXPECT_EQ(f.get("k.f32").as_double(), 0.25);
    EXPECT_TRUE(f.get("k.bool").as_bool());
    EXPECT_EQ(f.get("k.str").as_string(), "héllo");
    EXPECT_EQ(f.get("k.u64").as_uint(), 1ull << 40);
    EXPECT_EQ(f.get("k.i64").as_int(), -(1ll << 40));
    EXPECT_EQ(f.get("k.f64").as_double(), -1.5);
    const GgufValue& n = f.get("k.nested");
    ASSERT_EQ(n.elem_type, GgufType::ARRAY);
    ASSERT_EQ(n.array.size(), 2u);
    EXPECT_EQ(n.array[0].array[1].as_uint(), 2u);
    EXPECT_EQ(n.array[1].array[0].as_uint(), 3u);
    EXPECT_EQ(f.get("k.strings").array[1].as_string(), "");
    const TensorView t = f.view(*f.find_tensor("t"));
    EXPECT_EQ(t.shape, (std::vector<uint64_t>{2, 3}));
    float last;
    std::memcpy(&last, t.data + 20, 4);
    EXPECT_EQ(last, 5.0f);
    EXPECT_THROW(f.get("k.str").as_int(), FormatError);
    EXPECT_THROW(f.get_string("k.u8"), FormatError);
    EXPECT_THROW(f.get("missing"), FormatError);
}

// Every prefix of a valid file is an error (never a crash, never a success).
TEST(GgufReader, EveryTruncationIsAnError) {
    const auto bytes = hand_built_v2();
    for (size_t n = 0; n < bytes.size(); ++n) {
        std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
        EXPECT_THROW(GgufFile::parse(cut, "cut"), FormatError) << "prefix of " << n << " bytes";
    }
}

// Flipping any single byte either parses or fails with a FormatError. The assertion is that no
// other exception escapes and that the sanitizers of the test build report nothing.
TEST(GgufReader, SingleByteCorruptionsNeverCrash) {
    const auto bytes = hand_built_v2();
    for (size_t k = 0; k < bytes.size(); ++k) {
        for (uint8_t x : {0x01, 0x80, 0xff}) {
            auto bad = bytes;
            bad[k] ^= x;
            try {
                GgufFile::parse(bad, "bad");
            } catch (const FormatError&) {
            }
        }
    }
}

struct Corruption {
    const char* what;
    size_t offset;
    std::vector<uint8_t> bytes;
    const char* message;
};

TEST(GgufReader, MalformedFilesGiveClearErrors) {
    const auto good = hand_built_v2();
    auto patch = [&](size_t at, std::vector<uint8_t> with) {
        auto b = good;
        std::copy(with.begin(), with.end(), b.begin() + static_cast<long>(at));
        return b;
    };
    auto expect_error = [](const std::vector<uint8_t>& b, const std::string& needle) {
        try {
            GgufFile::parse(b, "bad.gguf");
            ADD_FAILURE() << "parsed, expected an error containing '" << needle << "'";
        } catch (const FormatError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("bad.gguf"), std::string::npos) << e.what();
        }
    };
    expect_error(patch(0, {'G', 'G', 'M', 'L'}), "not a GGUF file");
    expect_error(patch(4, {1, 0, 0, 0}), "version 1");
    expect_error(patch(4, {0, 0, 0, 3}), "big-endian");
    expect_error(patch(4, {9, 0, 0, 0}), "unsupported GGUF version 9");
    expect_error(patch(8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}), "tensors, more than the file holds");
    expect_error(patch(16, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}), "metadata entries, more than the file holds");
    // Key length larger than the file.
    expect_error(patch(24, {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}), "over the limit");
    // First value's type (after "k.u8") set to 99.
    expect_error(patch(24 + 8 + 4, {99, 0, 0, 0}), "unknown value type 99");
    // Bool value 2.
    {
        auto b = good;
        const std::string key = "k.bool";
        auto it = std::search(b.begin(), b.end(), key.begin(), key.end());
        ASSERT_NE(it, b.end());
        *(it + static_cast<long>(key.size()) + 4) = 2;
        expect_error(b, "bool value of 2");
    }
}

TEST(GgufReader, RejectsDuplicatesBadAlignmentAndOutOfRangeTensors) {
    auto make = [](auto&& edit) {
        GgufWriter w;
        w.set_u32("a", 1);
        edit(w);
        const std::string dir = test::scratch_dir("gguf_bad");
        w.write(dir + "/x.gguf");
        return test::read_file(dir + "/x.gguf");
    };
    // Tensor offset not aligned: rewrite the offset field of the only tensor.
    auto b = make([](GgufWriter& w) { w.add_tensor_bytes("t", {8}, DType::F32, std::vector<uint8_t>(32, 0)); });
    const GgufFile ok = GgufFile::parse(b, "ok");
    ASSERT_EQ(ok.tensor_infos().size(), 1u);
    // The offset is the last 8 bytes before the padding of the header: find the name and skip fields.
    const std::string name = "t";
    size_t pos = 0;
    for (size_t k = 0; k + 9 < b.size(); ++k)
        if (b[k] == 1 && b[k + 1] == 0 && b[k + 8] == 't') pos = k + 9;  // u64 len=1 then 't'
    ASSERT_GT(pos, 0u);
    const size_t off_field = pos + 4 + 8 + 4;  // n_dims, ne[0], type
    auto unaligned = b;
    unaligned[off_field] = 4;
    EXPECT_THROW(GgufFile::parse(unaligned, "x"), FormatError);
    auto beyond = b;
    beyond[off_field + 1] = 1;  // offset 256: past the end
    try {
        GgufFile::parse(beyond, "x");
        ADD_FAILURE();
    } catch (const FormatError& e) {
        EXPECT_NE(std::string(e.what()).find("extends past the end"), std::string::npos) << e.what();
    }
    // A file cut inside its data.
    std::vector<uint8_t> cut(b.begin(), b.end() - 4);
    EXPECT_THROW(GgufFile::parse(cut, "x"), FormatError);
}

// Duplicate keys, duplicate tensor names and overlapping tensors, in a file built by hand.
TEST(GgufReader, RejectsDuplicatesAndOverlaps) {
    auto build = [](bool dup_key, bool dup_tensor, bool overlap) {
        std::vector<uint8_t> b;
        auto put = [&](const void* p, size_t n) { b.insert(b.end(), (const uint8_t*)p, (const uint8_t*)p + n); };
        auto u32 = [&](uint32_t v) { put(&v, 4); };
        auto u64 = [&](uint64_t v) { put(&v, 8); };
        auto str = [&](const std::string& x) { u64(x.size()); put(x.data(), x.size()); };
        put("GGUF", 4);
        u32(3);
        u64(2);  // tensors
        u64(2);  // keys
        str("a"); u32(4); u32(1);
        str(dup_key ? "a" : "b"); u32(4); u32(2);
        str("t0"); u32(1); u64(8); u32(0); u64(0);
        str(dup_tensor ? "t0" : "t1"); u32(1); u64(8); u32(0); u64(overlap ? 0 : 32);
        while (b.size() % 32) b.push_back(0);
        b.resize(b.size() + 64, 0);
        return b;
    };
    EXPECT_NO_THROW(GgufFile::parse(build(false, false, false), "ok.gguf"));
    auto expect = [](const std::vector<uint8_t>& b, const std::string& needle) {
        try {
            GgufFile::parse(b, "x.gguf");
            ADD_FAILURE() << "parsed; expected: " << needle;
        } catch (const FormatError& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
    };
    expect(build(true, false, false), "metadata key 'a' appears twice");
    expect(build(false, true, false), "tensor 't0' appears twice");
    expect(build(false, false, true), "overlap");
}

// A file claiming a huge array must fail on the bytes it lacks, not ask for the memory first.
TEST(GgufReader, HugeArrayCountsDoNotAllocate) {
    std::vector<uint8_t> b;
    auto put = [&](const void* p, size_t n) { b.insert(b.end(), (const uint8_t*)p, (const uint8_t*)p + n); };
    uint32_t v32;
    uint64_t v64;
    put("GGUF", 4);
    v32 = 3; put(&v32, 4);
    v64 = 0; put(&v64, 8);
    v64 = 1; put(&v64, 8);
    v64 = 1; put(&v64, 8); put("k", 1);
    v32 = 9; put(&v32, 4);   // array
    v32 = 0; put(&v32, 4);   // of uint8
    v64 = 1u << 20; put(&v64, 8);  // claims 1 Mi elements
    b.resize(b.size() + (1u << 20) - 1, 0);  // one byte short
    EXPECT_THROW(GgufFile::parse(b, "x.gguf"), FormatError);
}

TEST(GgufReader, MissingFileIsAPlainError) {
    try {
        GgufFile::open("/nonexistent/model.gguf");
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/model.gguf"), std::string::npos);
    }
}

}  // namespace
}  // namespace gd
