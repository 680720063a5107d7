// SafetensorsFile::parse on hand-built files: what is accepted, and that every malformed file gives a
// FormatError whose message names the file, the tensor and the problem.
#include <gtest/gtest.h>

#include <filesystem>

#include "format/safetensors.h"
#include "support/test_support.h"
#include "test_st_helpers.h"

namespace gd::test {
namespace {

namespace fs = std::filesystem;

void expect_contains(const std::string& message, std::initializer_list<const char*> needles) {
    for (const char* n : needles) EXPECT_NE(message.find(n), std::string::npos) << "'" << n << "' not in: " << message;
}

// ---- accepted -------------------------------------------------------------------------------------

TEST(SafetensorsParse, MinimalFile) {
    const auto b = raw_safetensors(R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 8);
    const auto f = SafetensorsFile::parse(b, "min.safetensors");
    ASSERT_EQ(f.tensors().size(), 1u);
    const auto& t = f.tensors()[0];
    EXPECT_EQ(t.name, "t");
    EXPECT_EQ(t.type, DType::F32);
    EXPECT_EQ(t.shape, (std::vector<uint64_t>{2}));
    EXPECT_EQ(t.nbytes, 8u);
    EXPECT_EQ(t.data, b.data() + b.size() - 8);
    EXPECT_EQ(f.file_size(), b.size());
    EXPECT_EQ(f.path(), "min.safetensors");
    EXPECT_TRUE(f.header_metadata().empty());
}

TEST(SafetensorsParse, EmptyHeaderAndPadding) {
    EXPECT_TRUE(SafetensorsFile::parse(raw_safetensors("{}", 0), "e").tensors().empty());
    EXPECT_TRUE(SafetensorsFile::parse(raw_safetensors("{}      ", 0), "e").tensors().empty());
    EXPECT_TRUE(SafetensorsFile::parse(raw_safetensors(" \n{} \t\r\n", 0), "e").tensors().empty());
}

TEST(SafetensorsParse, TensorsAreReturnedInOffsetOrder) {
    const std::string h = R"({"c":{"dtype":"U8","shape":[1],"data_offsets":[2,3]},)"
                          R"("a":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},)"
                          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                          R"("z0":{"dtype":"F32","shape":[0],"data_offsets":[3,3]}})";
    const auto bytes = raw_safetensors(h, 5);  // parse() without a keepalive: the buffer must outlive f
    const auto f = SafetensorsFile::parse(bytes, "order");
    std::vector<std::string> names;
    for (const auto& t : f.tensors()) names.push_back(t.name);
    EXPECT_EQ(names, (std::vector<std::string>{"b", "c", "z0", "a"}));
    EXPECT_EQ(f.find("a")->data[0], 4);
    EXPECT_EQ(f.find("b")->data[1], 1);
}

TEST(SafetensorsParse, MetadataIsReadAndNullMetadataIgnored) {
    const auto bytes =
        raw_safetensors(R"({"__metadata__":{"format":"pt","x":""},"t":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}})", 1);
    const auto f = SafetensorsFile::parse(bytes, "m");
    EXPECT_EQ(f.header_metadata().size(), 2u);
    EXPECT_EQ(f.header_metadata().at("format"), "pt");
    EXPECT_EQ(f.tensors().size(), 1u);
    EXPECT_TRUE(SafetensorsFile::parse(raw_safetensors(R"({"__metadata__":null})", 0), "m").header_metadata().empty());
}

TEST(SafetensorsParse, GapsTrailingBytesAndEmptyTensorsInsideOthersAreAccepted) {
    // Gap between 0..4 and 8..12, 3 trailing bytes, a zero-size tensor at offset 2 (inside "a") and one
    // at the very end of the data; unknown fields in an entry are ignored.
    const std::string h = R"({"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"I32","shape":[1],"data_offsets":[8,12],"extra":1},)"
                          R"("e":{"dtype":"I16","shape":[4,0],"data_offsets":[2,2]},)"
                          R"("end":{"dtype":"F64","shape":[0],"data_offsets":[15,15]}})";
    const auto bytes = raw_safetensors(h, 15);
    const auto f = SafetensorsFile::parse(bytes, "gaps");
    EXPECT_EQ(f.tensors().size(), 4u);
    EXPECT_EQ(f.find("e")->nbytes, 0u);
    EXPECT_EQ(f.find("end")->nbytes, 0u);
}

TEST(SafetensorsParse, AllSupportedDtypes) {
    const std::pair<const char*, DType> types[] = {
        {"F64", DType::F64}, {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16},
        {"I64", DType::I64}, {"I32", DType::I32}, {"I16", DType::I16}, {"I8", DType::I8},
        {"U8", DType::U8},   {"U16", DType::U16}, {"U32", DType::U32}, {"U64", DType::U64},
        {"BOOL", DType::BOOL}};
    for (const auto& [name, type] : types) {
        const uint64_t size = 3 * dtype_info(type).block_bytes;
        const std::string h = std::string(R"({"t":{"dtype":")") + name + R"(","shape":[3],"data_offsets":[0,)" +
                              std::to_string(size) + "]}}";
        const auto f = SafetensorsFile::parse(raw_safetensors(h, size), "types");
        EXPECT_EQ(f.tensors().at(0).type, type) << name;
    }
}

TEST(SafetensorsParse, OpenMapsAFile) {
    const auto dir = scratch_dir("st_open");
    write_file(dir + "/t.safetensors", raw_safetensors(R"({"t":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})", 3));
    const auto f = SafetensorsFile::open(dir + "/t.safetensors");
    EXPECT_EQ(view_bytes(*f.find("t")), (std::vector<uint8_t>{0, 1, 2}));
    // A copy of the file object keeps the mapping alive.
    const SafetensorsFile copy = f;
    EXPECT_EQ(copy.find("t")->data[2], 2);
    try {
        SafetensorsFile::open(dir + "/missing.safetensors");
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        expect_contains(e.what(), {"missing.safetensors"});
    }
}

// ---- rejected -------------------------------------------------------------------------------------

TEST(SafetensorsParseBad, TooShortForTheLength) {
    for (size_t n = 0; n < 8; ++n) {
        const std::vector<uint8_t> b(n, 0);
        expect_contains(parse_error_of(b, "short.safetensors"), {"short.safetensors", "too short"});
    }
}

TEST(SafetensorsParseBad, TruncatedHeader) {
    auto b = raw_safetensors(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 1);
    b.resize(30);  // cut inside the header
    expect_contains(parse_error_of(b, "cut.safetensors"), {"cut.safetensors", "header length is", "truncated"});
}

TEST(SafetensorsParseBad, HeaderLengthBeyondFile) {
    expect_contains(parse_error_of(raw_safetensors("{}", 0, 3)), {"bad.safetensors", "header length is 3", "only 2"});
    expect_contains(parse_error_of(raw_safetensors("{}", 0, int64_t(1) << 40)), {"100 MiB"});
    std::vector<uint8_t> b(8, 0xff);  // 2^64 - 1
    expect_contains(parse_error_of(b), {"100 MiB"});
    // Within the 100 MiB bound but beyond the file.
    expect_contains(parse_error_of(raw_safetensors("{}", 0, 100ll << 20)), {"header length is", "truncated"});
}

TEST(SafetensorsParseBad, ZeroOrOneByteHeader) {
    expect_contains(parse_error_of(raw_safetensors("", 0)), {"too short for a JSON object"});
    expect_contains(parse_error_of(raw_safetensors("{", 0)), {"too short for a JSON object"});
}

TEST(SafetensorsParseBad, BadJson) {
    const auto m = parse_error_of(raw_safetensors(R"({"t":{"dtype":"U8",,}})", 0), "json.safetensors");
    expect_contains(m, {"json.safetensors", "not valid JSON", "line 1", "column", "byte"});
    expect_contains(parse_error_of(raw_safetensors(std::string("{\"a\":1}\0\0", 9), 0)), {"not valid JSON"});  // NUL padding
    expect_contains(parse_error_of(raw_safetensors("{\"a\":\"\xff\"}", 0)), {"not valid JSON"});  // bad UTF-8
    expect_contains(parse_error_of(raw_safetensors(R"({"t":{"dtype":"U8","shape":[1e999]}})", 0)), {"JSON"});
    expect_contains(parse_error_of(raw_safetensors("{} {}", 0)), {"not valid JSON"});
}

TEST(SafetensorsParseBad, HeaderNotAnObject) {
    expect_contains(parse_error_of(raw_safetensors("[1,2]", 0)), {"JSON array", "expected an object"});
    expect_contains(parse_error_of(raw_safetensors("\"{}\"", 0)), {"JSON string"});
}

TEST(SafetensorsParseBad, EntryShape) {
    expect_contains(parse_error_of(raw_safetensors(R"({"w":[1]})", 0)), {"tensor \"w\"", "JSON array"});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", 1)),
                    {"tensor \"w\"", "no \"dtype\""});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","data_offsets":[0,1]}})", 1)),
                    {"tensor \"w\"", "no \"shape\""});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":[1]}})", 1)),
                    {"tensor \"w\"", "no \"data_offsets\""});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":8,"shape":[1],"data_offsets":[0,1]}})", 1)),
                    {"tensor \"w\"", "\"dtype\" is a JSON number"});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":1,"data_offsets":[0,1]}})", 1)),
                    {"tensor \"w\"", "\"shape\" is a JSON number"});
    for (const char* off : {"[0]", "[0,1,2]", "[-1,1]", "[0,1.5]", "\"0,1\"", "{}"}) {
        const std::string h = std::string(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":)") + off + "}}";
        expect_contains(parse_error_of(raw_safetensors(h, 4)), {"tensor \"w\"", "data_offsets"});
    }
}

TEST(SafetensorsParseBad, UnknownDtype) {
    for (const char* dt : {"F8_E4M3", "F8_E5M2", "C64", "f32", "Q4_0", ""}) {
        const std::string h =
            std::string(R"({"model.layers.0.w":{"dtype":")") + dt + R"(","shape":[1],"data_offsets":[0,1]}})";
        expect_contains(parse_error_of(raw_safetensors(h, 1), "fp8.safetensors"),
                        {"fp8.safetensors", "tensor \"model.layers.0.w\"", dt, "cannot read", "BF16"});
    }
}

TEST(SafetensorsParseBad, NegativeFractionalAndHugeShapes) {
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,0]}})", 0)),
                    {"tensor \"w\"", "dimension 1", "negative (-1)"});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":[2.0],"data_offsets":[0,2]}})", 2)),
                    {"tensor \"w\"", "not an integer"});
    expect_contains(
        parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":[18446744073709551616],"data_offsets":[0,1]}})", 1)),
        {"tensor \"w\"", "not an integer, or too large"});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":["3"],"data_offsets":[0,3]}})", 3)),
                    {"tensor \"w\"", "JSON string"});
    // Element count overflows 64 bits.
    expect_contains(parse_error_of(raw_safetensors(
                        R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", 0)),
                    {"tensor \"w\"", "overflows"});
    // Element count fits, byte size does not (2^62 F32 elements).
    expect_contains(parse_error_of(raw_safetensors(
                        R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})", 0)),
                    {"tensor \"w\"", "byte size", "overflows"});
    // A huge but representable size is just a size mismatch / out of range, not a crash.
    expect_contains(parse_error_of(raw_safetensors(
                        R"({"w":{"dtype":"U8","shape":[4294967296,4294967295],"data_offsets":[0,4]}})", 4)),
                    {"tensor \"w\"", "needs"});
    // Very many dimensions: the message stays short.
    std::string many = R"({"w":{"dtype":"U8","shape":[)";
    for (int i = 0; i < 5000; ++i) many += "0,";
    many += R"(0],"data_offsets":[0,1]}})";
    const auto m = parse_error_of(raw_safetensors(many, 1));
    expect_contains(m, {"5001 dimensions", "needs 0"});
    EXPECT_LT(m.size(), 400u);
    // A zero dimension makes any other dimension harmless.
    EXPECT_NO_THROW(SafetensorsFile::parse(
        raw_safetensors(R"({"w":{"dtype":"U8","shape":[0,18446744073709551615],"data_offsets":[0,0]}})", 0), "z"));
}

TEST(SafetensorsParseBad, OffsetsOutOfRange) {
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 3),
                                   "oor.safetensors"),
                    {"oor.safetensors", "tensor \"w\"", "[0, 4]", "past the end", "3 bytes"});
    expect_contains(parse_error_of(raw_safetensors(
                        R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[18446744073709551615,18446744073709551615]}})", 3)),
                    {"tensor \"w\"", "past the end"});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[3,2]}})", 3)),
                    {"tensor \"w\"", "end before they begin"});
}

TEST(SafetensorsParseBad, SizeMismatch) {
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,6]}})", 16),
                                   "mm.safetensors"),
                    {"mm.safetensors", "tensor \"w\"", "span 6 bytes", "[2, 3]", "needs 12"});
    expect_contains(parse_error_of(raw_safetensors(R"({"w":{"dtype":"F32","shape":[],"data_offsets":[0,0]}})", 16)),
                    {"tensor \"w\"", "needs 4"});
}

TEST(SafetensorsParseBad, Overlap) {
    const std::string h = R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},)"
                          R"("b":{"dtype":"U8","shape":[4],"data_offsets":[3,7]}})";
    expect_contains(parse_error_of(raw_safetensors(h, 8), "ov.safetensors"),
                    {"ov.safetensors", "\"a\"", "\"b\"", "overlap"});
    // Same range twice.
    const std::string same = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                             R"("b":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}})";
    expect_contains(parse_error_of(raw_safetensors(same, 2)), {"overlap"});
    // A small tensor inside a large one that starts earlier, with another in between.
    const std::string nested = R"({"big":{"dtype":"U8","shape":[10],"data_offsets":[0,10]},)"
                               R"("x":{"dtype":"U8","shape":[1],"data_offsets":[10,11]},)"
                               R"("in":{"dtype":"U8","shape":[2],"data_offsets":[5,7]}})";
    expect_contains(parse_error_of(raw_safetensors(nested, 12)), {"\"big\"", "\"in\"", "overlap"});
}

TEST(SafetensorsParseBad, DuplicateNames) {
    const std::string h = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                          R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})";
    expect_contains(parse_error_of(raw_safetensors(h, 2), "dup.safetensors"),
                    {"dup.safetensors", "tensor \"w\" is listed twice"});
    // A duplicated field inside an entry is ambiguous too.
    expect_contains(parse_error_of(raw_safetensors(
                        R"({"w":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})", 4)),
                    {"field \"dtype\" twice"});
    // The same key in two different objects is fine.
    EXPECT_NO_THROW(SafetensorsFile::parse(
        raw_safetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                        R"("b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", 2),
        "ok"));
}

TEST(SafetensorsParseBad, BadMetadata) {
    expect_contains(parse_error_of(raw_safetensors(R"({"__metadata__":{"n":1}})", 0)),
                    {"__metadata__", "\"n\"", "JSON number", "expected a string"});
    expect_contains(parse_error_of(raw_safetensors(R"({"__metadata__":["x"]})", 0)), {"__metadata__", "JSON array"});
}

TEST(SafetensorsParseBad, LongNamesAreShortenedInMessages) {
    const std::string name(5000, 'n');
    const std::string h = "{\"" + name + R"(":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})";
    const auto m = parse_error_of(raw_safetensors(h, 1));
    EXPECT_LT(m.size(), 600u);
    expect_contains(m, {"...", "F8_E4M3"});
    // Control characters are escaped.
    const auto m2 = parse_error_of(raw_safetensors("{\"a\\u0001b\":1}", 0));
    expect_contains(m2, {"a\\x01b"});
}

// Every seed of the fuzzer's corpus (valid files and edge cases, plus any input that once broke the
// parser) parses or gives a FormatError, under this build's sanitizers too.
TEST(SafetensorsParseBad, FuzzCorpusSeeds) {
    const fs::path corpus = fs::path(data_dir()) / ".." / "fuzz" / "corpus" / "fuzz_safetensors";
    ASSERT_TRUE(fs::is_directory(corpus)) << corpus;
    int n = 0, ok = 0;
    for (const auto& e : fs::directory_iterator(corpus)) {
        SCOPED_TRACE(e.path().string());
        const auto bytes = read_file(e.path().string());
        ++n;
        try {
            const auto f = SafetensorsFile::parse(bytes, e.path().filename().string());
            for (const auto& t : f.tensors()) ASSERT_LE(t.data + t.nbytes, bytes.data() + bytes.size());
            ++ok;
        } catch (const FormatError&) {
        }
    }
    EXPECT_GE(n, 20);
    EXPECT_GE(ok, 8);  // the valid seeds
}

}  // namespace
}  // namespace gd::test
