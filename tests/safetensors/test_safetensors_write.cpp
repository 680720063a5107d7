// write_safetensors and reading back: round trips over every plain dtype, the exact byte layout the
// Python library writes, and the writer's error handling.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include <csignal>
#include <filesystem>
#include <sys/resource.h>
#include <map>
#include <stdexcept>

#include "format/safetensors.h"
#include "support/test_support.h"
#include "test_st_helpers.h"

namespace gd::test {
namespace {

namespace fs = std::filesystem;

std::string as_string(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

uint64_t le64(const std::vector<uint8_t>& b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
    return v;
}

struct Case {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> data;
};

std::vector<Case> all_dtype_cases() {
    std::vector<Case> c;
    c.push_back({"f32.matrix", DType::F32, {2, 3}, bytes_of<float>({1.f, -2.f, 3.5f, 0.f, 1e-30f, -7.25f})});
    c.push_back({"f64.scalar", DType::F64, {}, bytes_of<double>({3.141592653589793})});
    c.push_back({"f16.vec", DType::F16, {1, 1, 2}, bytes_of<uint16_t>({0x3c00, 0xc000})});
    c.push_back({"bf16.vec", DType::BF16, {4}, bytes_of<uint16_t>({0x3f80, 0xbf00, 0x4049, 0x7f80})});
    c.push_back({"i64.ids", DType::I64, {3}, bytes_of<int64_t>({-1, 1ll << 50, 0})});
    c.push_back({"i32.grid", DType::I32, {2, 2}, bytes_of<int32_t>({-5, 6, -7, 8})});
    c.push_back({"i16.v", DType::I16, {5}, bytes_of<int16_t>({-32768, -1, 0, 1, 32767})});
    c.push_back({"i8.v", DType::I8, {3}, bytes_of<int8_t>({-128, 0, 127})});
    c.push_back({"u8.v", DType::U8, {7}, bytes_of<uint8_t>({0, 1, 2, 3, 253, 254, 255})});
    c.push_back({"bool.v", DType::BOOL, {2}, bytes_of<uint8_t>({1, 0})});
    c.push_back({"u16.v", DType::U16, {3}, bytes_of<uint16_t>({0, 1, 65535})});
    c.push_back({"u32.v", DType::U32, {1}, bytes_of<uint32_t>({4000000000u})});
    c.push_back({"u64.v", DType::U64, {2}, bytes_of<uint64_t>({~0ull, 42})});
    c.push_back({"zero.size", DType::F32, {0, 4}, {}});
    c.push_back({"bf16.zero_dim_last", DType::BF16, {3, 0}, {}});
    c.push_back({"u8.scalar", DType::U8, {}, {9}});
    return c;
}

TEST(SafetensorsWrite, RoundTripsEveryDtypeScalarAndZeroSize) {
    const auto dir = scratch_dir("st_roundtrip");
    const auto path = dir + "/all.safetensors";
    std::vector<SafetensorsWriteTensor> w;
    for (const auto& c : all_dtype_cases()) w.push_back(from_bytes(c.name, c.type, c.shape, c.data));
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"made_by", "gemma desk test"}};
    write_safetensors(path, w, meta);
    EXPECT_FALSE(fs::exists(path + ".tmp"));

    const auto f = SafetensorsFile::open(path);
    EXPECT_EQ(f.path(), path);
    EXPECT_EQ(f.header_metadata(), meta);
    EXPECT_EQ(f.data_start() % 8, 0u);
    EXPECT_EQ(f.file_size(), fs::file_size(path));
    ASSERT_EQ(f.tensors().size(), all_dtype_cases().size());
    for (const auto& c : all_dtype_cases()) {
        SCOPED_TRACE(c.name);
        const TensorView* t = f.find(c.name);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->name, c.name);
        EXPECT_EQ(t->type, c.type);
        EXPECT_EQ(t->shape, c.shape);
        EXPECT_EQ(t->nbytes, c.data.size());
        EXPECT_EQ(t->elements() * dtype_info(c.type).block_bytes, c.data.size());
        EXPECT_EQ(view_bytes(*t), c.data);
        // Each tensor is aligned to its element size in the file (the writer orders by size).
        const uint64_t file_offset = static_cast<uint64_t>(t->data - f.tensors()[0].data) + f.data_start();
        EXPECT_EQ(file_offset % dtype_info(c.type).block_bytes, 0u);
    }
    EXPECT_EQ(f.find("missing"), nullptr);

    // Tensors come back in offset order.
    for (size_t i = 1; i < f.tensors().size(); ++i) EXPECT_LE(f.tensors()[i - 1].data, f.tensors()[i].data);
}

TEST(SafetensorsWrite, ScalarShapeIsEmptyAndHasOneElement) {
    const auto dir = scratch_dir("st_scalar");
    write_safetensors(dir + "/s.safetensors", {from_bytes("s", DType::F32, {}, bytes_of<float>({2.5f}))});
    const auto f = SafetensorsFile::open(dir + "/s.safetensors");
    ASSERT_EQ(f.tensors().size(), 1u);
    EXPECT_TRUE(f.tensors()[0].shape.empty());
    EXPECT_EQ(f.tensors()[0].elements(), 1u);
    EXPECT_EQ(f.tensors()[0].nbytes, 4u);
}

// The byte layout of the Python library (safetensors' own serialization tests show these headers):
// compact JSON, fields dtype/shape/data_offsets, padded with spaces to a multiple of 8.
TEST(SafetensorsWrite, HeaderBytesMatchThePythonLibrary) {
    const auto dir = scratch_dir("st_header_bytes");
    {
        write_safetensors(dir + "/a.safetensors",
                          {from_bytes("attn.0", DType::F32, {1, 2, 3}, bytes_of<float>({0, 1, 2, 3, 4, 5}))});
        const auto b = read_file(dir + "/a.safetensors");
        const std::string h = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
        ASSERT_EQ(h.size(), 64u);  // already a multiple of 8: no padding
        ASSERT_EQ(b.size(), 8 + 64 + 24u);
        EXPECT_EQ(le64(b), 64u);
        EXPECT_EQ(as_string({b.begin() + 8, b.begin() + 72}), h);
        EXPECT_EQ(std::vector<uint8_t>(b.begin() + 72, b.end()), bytes_of<float>({0, 1, 2, 3, 4, 5}));
    }
    {
        write_safetensors(dir + "/b.safetensors",
                          {from_bytes("attn0", DType::F32, {1, 1, 2, 3}, bytes_of<float>({0, 1, 2, 3, 4, 5}))});
        const auto b = read_file(dir + "/b.safetensors");
        const std::string h = R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})";
        ASSERT_EQ(h.size(), 65u);
        EXPECT_EQ(le64(b), 72u);
        EXPECT_EQ(as_string({b.begin() + 8, b.begin() + 80}), h + std::string(7, ' '));
    }
    {
        write_safetensors(dir + "/empty.safetensors", {});
        EXPECT_EQ(as_string(read_file(dir + "/empty.safetensors")), std::string("\x08\0\0\0\0\0\0\0{}      ", 16));
        write_safetensors(dir + "/meta.safetensors", {}, {{"framework", "pt"}});
        const auto b = read_file(dir + "/meta.safetensors");
        EXPECT_EQ(le64(b), 40u);
        EXPECT_EQ(as_string({b.begin() + 8, b.end()}), R"({"__metadata__":{"framework":"pt"}})" + std::string(5, ' '));
        const auto f = SafetensorsFile::open(dir + "/meta.safetensors");
        EXPECT_TRUE(f.tensors().empty());
        EXPECT_EQ(f.header_metadata().at("framework"), "pt");
    }
}

TEST(SafetensorsWrite, DataOrderIsBySizeDescendingThenName) {
    const auto dir = scratch_dir("st_order");
    std::vector<SafetensorsWriteTensor> w = {
        from_bytes("b", DType::U8, {1}, {1}),         from_bytes("a", DType::U8, {1}, {2}),
        from_bytes("z", DType::F64, {1}, bytes_of<double>({1})),
        from_bytes("m", DType::BF16, {1}, {0, 0}),    from_bytes("k", DType::F16, {1}, {0, 0}),
        from_bytes("c", DType::BOOL, {1}, {1}),       from_bytes("y", DType::F32, {1}, {0, 0, 0, 0}),
        from_bytes("x", DType::I32, {1}, {0, 0, 0, 0}), from_bytes("w", DType::U64, {1}, std::vector<uint8_t>(8)),
    };
    write_safetensors(dir + "/o.safetensors", w);
    const auto f = SafetensorsFile::open(dir + "/o.safetensors");
    std::vector<std::string> names;
    for (const auto& t : f.tensors()) names.push_back(t.name);
    // Python's Dtype order (descending): U64, I64, F64, F32, U32, I32, BF16, F16, U16, I16, I8, U8, BOOL.
    EXPECT_EQ(names, (std::vector<std::string>{"w", "z", "y", "x", "m", "k", "a", "b", "c"}));
    // The header lists them in the same order.
    const auto b = read_file(dir + "/o.safetensors");
    const std::string h = as_string({b.begin() + 8, b.begin() + 8 + static_cast<long>(le64(b))});
    size_t last = 0;
    for (const auto& n : names) {
        const size_t at = h.find("\"" + n + "\":");
        ASSERT_NE(at, std::string::npos) << n;
        EXPECT_GT(at, last) << n;
        last = at;
    }
}

TEST(SafetensorsWrite, NullProducerWritesZeros) {
    const auto dir = scratch_dir("st_nullprod");
    write_safetensors(dir + "/z.safetensors", {{"z", DType::I32, {3}, nullptr}});
    const auto f = SafetensorsFile::open(dir + "/z.safetensors");
    EXPECT_EQ(view_bytes(*f.find("z")), std::vector<uint8_t>(12, 0));
}

TEST(SafetensorsWrite, LargeTensorBypassesStagingBuffer) {
    // 12 MiB (more than the 8 MiB staging buffer) between two small tensors.
    const auto dir = scratch_dir("st_large");
    const uint64_t n = 3ull << 20;
    std::vector<SafetensorsWriteTensor> w = {
        from_bytes("a.small", DType::F32, {2}, bytes_of<float>({1, 2})),
        {"big", DType::F32, {n},
         [](uint8_t* dst, uint64_t nb) {
             for (uint64_t i = 0; i < nb; ++i) dst[i] = static_cast<uint8_t>(i * 7 + 3);
         }},
        from_bytes("z.small", DType::F32, {1}, bytes_of<float>({3})),
    };
    write_safetensors(dir + "/big.safetensors", w);
    const auto f = SafetensorsFile::open(dir + "/big.safetensors");
    const auto* big = f.find("big");
    ASSERT_NE(big, nullptr);
    ASSERT_EQ(big->nbytes, 4 * n);
    bool ok = true;
    for (uint64_t i = 0; i < big->nbytes && ok; ++i) ok = big->data[i] == static_cast<uint8_t>(i * 7 + 3);
    EXPECT_TRUE(ok);
    EXPECT_EQ(view_bytes(*f.find("a.small")), bytes_of<float>({1, 2}));
    EXPECT_EQ(view_bytes(*f.find("z.small")), bytes_of<float>({3}));
}

TEST(SafetensorsWrite, RejectsBadTensorLists) {
    const auto dir = scratch_dir("st_write_bad");
    const auto p = dir + "/x.safetensors";
    auto expect_error = [&](const std::vector<SafetensorsWriteTensor>& w, const std::string& needle) {
        try {
            write_safetensors(p, w);
            ADD_FAILURE() << "no error, expected one mentioning " << needle;
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
        }
        EXPECT_FALSE(fs::exists(p));
        EXPECT_FALSE(fs::exists(p + ".tmp"));
    };
    expect_error({{"a", DType::F32, {1}, nullptr}, {"a", DType::F32, {1}, nullptr}}, "twice");
    expect_error({{"", DType::F32, {1}, nullptr}}, "empty name");
    expect_error({{"__metadata__", DType::F32, {1}, nullptr}}, "__metadata__");
    expect_error({{"q", DType::Q4_0, {32}, nullptr}}, "q4_0");
    expect_error({{"huge", DType::F32, {1ull << 40, 1ull << 40}, nullptr}}, "overflow");
    expect_error({{std::string("bad\xff" "utf8"), DType::F32, {1}, nullptr}}, "UTF-8");
}

TEST(SafetensorsWrite, FailingProducerLeavesNoFileAndKeepsTheOldOne) {
    const auto dir = scratch_dir("st_write_throw");
    const auto p = dir + "/keep.safetensors";
    write_safetensors(p, {from_bytes("old", DType::U8, {1}, {7})});
    const auto before = read_file(p);
    std::vector<SafetensorsWriteTensor> w = {
        {"t", DType::F32, {4}, [](uint8_t*, uint64_t) { throw std::runtime_error("producer failed"); }}};
    EXPECT_THROW(write_safetensors(p, w), std::runtime_error);
    EXPECT_FALSE(fs::exists(p + ".tmp"));
    EXPECT_EQ(read_file(p), before);
}

TEST(SafetensorsWrite, UnwritablePathIsAnError) {
    const auto dir = scratch_dir("st_write_nodir");
    try {
        write_safetensors(dir + "/no/such/folder/x.safetensors", {{"t", DType::F32, {1}, nullptr}});
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x.safetensors.tmp"), std::string::npos) << e.what();
    }
    // A folder where the temporary file should go.
    fs::create_directories(dir + "/y.safetensors.tmp");
    EXPECT_THROW(write_safetensors(dir + "/y.safetensors", {{"t", DType::F32, {1}, nullptr}}), Error);
}

// A write that cannot complete (here: the file size limit, with SIGXFSZ ignored so the OS returns
// EFBIG; the writer reserves the whole size first, so it fails before writing) is reported with the
// OS reason, and no partial .tmp file stays behind.
TEST(SafetensorsWrite, FailedWriteIsReported) {
    const auto dir = scratch_dir("st_write_efbig");
    const auto p = dir + "/big.safetensors";
    struct rlimit old {};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
    auto* old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = old;
    lim.rlim_cur = 4096;
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    std::string message;
    try {
        write_safetensors(p, {{"t", DType::F32, {4096}, nullptr}});
    } catch (const Error& e) {
        message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    EXPECT_NE(message.find("big.safetensors"), std::string::npos) << message;
    EXPECT_NE(message.find(std::strerror(EFBIG)), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(p));
    EXPECT_FALSE(fs::exists(p + ".tmp"));
}

TEST(SafetensorsWrite, OverwritesAnExistingFile) {
    const auto dir = scratch_dir("st_overwrite");
    const auto p = dir + "/o.safetensors";
    write_safetensors(p, {from_bytes("first", DType::U8, {3}, {1, 2, 3})});
    write_safetensors(p, {from_bytes("second", DType::U8, {1}, {9})});
    const auto f = SafetensorsFile::open(p);
    EXPECT_EQ(f.find("first"), nullptr);
    ASSERT_NE(f.find("second"), nullptr);
    EXPECT_EQ(view_bytes(*f.find("second")), std::vector<uint8_t>{9});
}

}  // namespace
}  // namespace gd::test
