// GGUF writer: write -> read round trips for every type the writer can store, metadata of every
// type, determinism across thread counts, alignment.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "common/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "format/quant/quant.h"
#include "support/test_support.h"

namespace gd {
namespace {

std::vector<uint8_t> random_bytes(uint64_t n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::vector<uint8_t> b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

// Every GGUF tensor type round-trips byte for byte, and the quantizable ones also dequantize to the
// same floats before and after.
TEST(GgufWriter, RoundTripsEveryStorableType) {
    const std::string dir = test::scratch_dir("gguf_roundtrip");
    GgufWriter w;
    std::vector<std::pair<DType, std::vector<uint8_t>>> expected;
    std::mt19937 rng(7);
    std::normal_distribution<float> normal(0.f, 1.f);
    for (int t = 0; t < static_cast<int>(DType::COUNT); ++t) {
        const DType type = static_cast<DType>(t);
        const auto& info = dtype_info(type);
        if (info.ggml_id < 0) continue;
        const uint64_t row = info.block_elems * 2, rows = 3;
        std::vector<uint8_t> bytes;
        if (can_quantize(type)) {
            std::vector<float> x(row * rows);
            for (auto& v : x) v = normal(rng);
            bytes.resize(dtype_bytes(type, x.size()));
            quantize_row(type, x.data(), bytes.data(), x.size());
        } else {
            bytes = random_bytes(dtype_bytes(type, row * rows), static_cast<uint32_t>(t));
        }
        w.add_tensor_bytes(std::string("t.") + info.name, {rows, row}, type, bytes);
        expected.emplace_back(type, bytes);
    }
    w.write(dir + "/all.gguf");
    const GgufFile f = GgufFile::open(dir + "/all.gguf");
    ASSERT_EQ(f.tensor_infos().size(), expected.size());
    for (const auto& [type, bytes] : expected) {
        const auto* ti = f.find_tensor(std::string("t.") + dtype_name(type));
        ASSERT_NE(ti, nullptr) << dtype_name(type);
        EXPECT_EQ(ti->type, type);
        const TensorView v = f.view(*ti);
        ASSERT_EQ(v.nbytes, bytes.size());
        EXPECT_EQ(std::memcmp(v.data, bytes.data(), bytes.size()), 0) << dtype_name(type);
        EXPECT_EQ(v.shape[0], 3u);
        if (dtype_info(type).dequantizable) {
            std::vector<float> a(v.elements()), b(v.elements());
            dequantize_row(type, bytes.data(), a.data(), a.size());
            dequantize_row(type, v.data, b.data(), b.size());
            EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0) << dtype_name(type);
        }
    }
}

TEST(GgufWriter, RoundTripsMetadataOfEveryType) {
    const std::string dir = test::scratch_dir("gguf_meta");
    GgufWriter w(64);
    GgufValue v8; v8.type = GgufType::INT8; v8.i = -5;
    GgufValue u16; u16.type = GgufType::UINT16; u16.u = 60000;
    GgufValue i64; i64.type = GgufType::INT64; i64.i = -123456789012;
    GgufValue f64; f64.type = GgufType::FLOAT64; f64.f = 3.25;
    w.set("a.i8", v8);
    w.set("a.u16", u16);
    w.set("a.i64", i64);
    w.set("a.f64", f64);
    w.set_u32("a.u32", 7);
    w.set_f32("a.f32", 1e-6f);
    w.set_bool("a.bool", false);
    w.set_string("a.str", std::string("with\0nul", 8));
    w.set("a.arr", GgufValue::make_array(GgufType::ARRAY, {GgufValue::make_array(GgufType::INT32, {GgufValue::make_i32(-1)}),
                                                          GgufValue::make_array(GgufType::INT32, {})}));
    w.set_u32("a.u32", 8);  // replacing keeps one entry
    w.add_tensor_bytes("s", {}, DType::F32, {0, 0, 0x80, 0x3f});
    w.write(dir + "/m.gguf");
    const GgufFile f = GgufFile::open(dir + "/m.gguf");
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    EXPECT_EQ(f.get("a.i8").as_int(), -5);
    EXPECT_EQ(f.get("a.u16").as_uint(), 60000u);
    EXPECT_EQ(f.get("a.i64").as_int(), -123456789012);
    EXPECT_EQ(f.get("a.f64").as_double(), 3.25);
    EXPECT_EQ(f.get("a.u32").as_uint(), 8u);
    EXPECT_FLOAT_EQ(static_cast<float>(f.get("a.f32").as_double()), 1e-6f);
    EXPECT_FALSE(f.get("a.bool").as_bool());
    EXPECT_EQ(f.get("a.str").as_string(), std::string("with\0nul", 8));
    EXPECT_EQ(f.get("a.arr").array[0].array[0].as_int(), -1);
    EXPECT_TRUE(f.get("a.arr").array[1].array.empty());
    EXPECT_EQ(f.metadata().size(), 10u);  // 9 keys + general.alignment
    const TensorView s = f.view(*f.find_tensor("s"));
    EXPECT_TRUE(s.shape.empty());
    EXPECT_EQ(s.elements(), 1u);
}

TEST(GgufWriter, OutputIsIdenticalForAnyThreadCount) {
    const std::string dir = test::scratch_dir("gguf_threads");
    auto build = [](GgufWriter& w) {
        // Large enough to be split into several pieces.
        w.add_tensor("big", {4096, 1024}, DType::F32, [](uint8_t* dst, uint64_t row0, uint64_t nrows) {
            for (uint64_t r = 0; r < nrows; ++r)
                for (uint64_t c = 0; c < 1024; ++c) {
                    const float v = static_cast<float>((row0 + r) * 1024 + c);
                    std::memcpy(dst + (r * 1024 + c) * 4, &v, 4);
                }
        });
        w.add_tensor_bytes("small", {3}, DType::F32, std::vector<uint8_t>(12, 1));
    };
    GgufWriter a, b;
    build(a);
    build(b);
    a.write(dir + "/1.gguf", 1);
    b.write(dir + "/4.gguf", 4);
    EXPECT_EQ(test::read_file(dir + "/1.gguf"), test::read_file(dir + "/4.gguf"));
    EXPECT_EQ(a.file_size(), test::read_file(dir + "/1.gguf").size());
    const GgufFile f = GgufFile::open(dir + "/4.gguf");
    const TensorView v = f.view(*f.find_tensor("big"));
    float x;
    std::memcpy(&x, v.data + (4095ull * 1024 + 1023) * 4, 4);
    EXPECT_EQ(x, 4095.f * 1024 + 1023);
}

TEST(GgufWriter, RejectsBadTensors) {
    GgufWriter w;
    EXPECT_THROW(w.add_tensor_bytes("q", {2, 31}, DType::Q8_0, {}), Error);  // row not whole blocks
    EXPECT_THROW(w.add_tensor_bytes("f", {2}, DType::F32, {1, 2, 3}), Error);  // wrong byte count
    EXPECT_THROW(w.add_tensor_bytes("u", {2}, DType::U8, {1, 2}), Error);    // GGUF has no u8 tensors
    w.add_tensor_bytes("a", {1}, DType::F32, {0, 0, 0, 0});
    EXPECT_THROW(w.add_tensor_bytes("a", {1}, DType::F32, {0, 0, 0, 0}), Error);
}

TEST(GgufWriter, ProducerFailureLeavesNoFile) {
    const std::string dir = test::scratch_dir("gguf_fail");
    GgufWriter w;
    w.add_tensor("t", {4}, DType::F32, [](uint8_t*, uint64_t, uint64_t) { throw Error("producer failed"); });
    EXPECT_THROW(w.write(dir + "/x.gguf"), Error);
    std::string out;
    EXPECT_NE(test::run_command("ls " + dir + "/x.gguf*", &out), 0) << out;
}

}  // namespace
}  // namespace gd
