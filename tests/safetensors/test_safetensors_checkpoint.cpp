// SafetensorsCheckpoint: a single file, a folder with model.safetensors, and sharded checkpoints with
// model.safetensors.index.json (written here into a scratch folder), good and bad.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "format/safetensors.h"
#include "support/test_support.h"
#include "test_st_helpers.h"

namespace gd::test {
namespace {

namespace fs = std::filesystem;

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << text;
    ASSERT_TRUE(f.good()) << path;
}

std::string error_of(const std::string& path) {
    try {
        SafetensorsCheckpoint::open(path);
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an error opening " << path;
    return "";
}

void expect_contains(const std::string& message, std::initializer_list<std::string> needles) {
    for (const auto& n : needles) EXPECT_NE(message.find(n), std::string::npos) << "'" << n << "' not in: " << message;
}

// Two shards: shard 1 holds a.weight (F32 [2]) and b.weight (U8 [3]), shard 2 holds c.weight (BF16 [2]).
struct Sharded {
    std::string dir;
    explicit Sharded(const std::string& test) : dir(scratch_dir(test)) {
        write_safetensors(dir + "/model-00001-of-00002.safetensors",
                          {from_bytes("a.weight", DType::F32, {2}, bytes_of<float>({1, 2})),
                           from_bytes("b.weight", DType::U8, {3}, {7, 8, 9})});
        write_safetensors(dir + "/model-00002-of-00002.safetensors",
                          {from_bytes("c.weight", DType::BF16, {2}, bytes_of<uint16_t>({0x3f80, 0x4000}))});
        write_index(R"({"metadata":{"total_size":15},"weight_map":{)"
                    R"("a.weight":"model-00001-of-00002.safetensors",)"
                    R"("b.weight":"model-00001-of-00002.safetensors",)"
                    R"("c.weight":"model-00002-of-00002.safetensors"}})");
    }
    std::string index() const { return dir + "/model.safetensors.index.json"; }
    void write_index(const std::string& text) const { write_text(index(), text); }
};

TEST(SafetensorsCheckpoint, SingleFile) {
    const auto dir = scratch_dir("ck_single");
    write_safetensors(dir + "/weights.safetensors", {from_bytes("w", DType::I8, {2}, {1, 2})});
    const auto ck = SafetensorsCheckpoint::open(dir + "/weights.safetensors");
    EXPECT_FALSE(ck.sharded());
    EXPECT_EQ(ck.path(), dir + "/weights.safetensors");
    ASSERT_EQ(ck.files().size(), 1u);
    ASSERT_NE(ck.find("w"), nullptr);
    EXPECT_EQ(view_bytes(*ck.find("w")), (std::vector<uint8_t>{1, 2}));
    EXPECT_EQ(ck.file_of("w"), dir + "/weights.safetensors");
    EXPECT_EQ(ck.find("nope"), nullptr);
    EXPECT_THROW(ck.file_of("nope"), ModelError);
    EXPECT_TRUE(ck.unindexed().empty());
}

TEST(SafetensorsCheckpoint, FolderWithModelSafetensors) {
    const auto dir = scratch_dir("ck_folder");
    write_safetensors(dir + "/model.safetensors", {from_bytes("w", DType::U8, {1}, {5})});
    const auto ck = SafetensorsCheckpoint::open(dir);
    EXPECT_EQ(fs::path(ck.path()).filename(), "model.safetensors");
    EXPECT_EQ(ck.tensors().size(), 1u);
    EXPECT_EQ(ck.find("w")->data[0], 5);
}

TEST(SafetensorsCheckpoint, ShardedThroughFolderAndIndexPath) {
    Sharded s("ck_sharded");
    for (const auto& path : {s.dir, s.index()}) {
        SCOPED_TRACE(path);
        const auto ck = SafetensorsCheckpoint::open(path);
        EXPECT_TRUE(ck.sharded());
        EXPECT_EQ(ck.path(), s.index());
        ASSERT_EQ(ck.files().size(), 2u);
        EXPECT_EQ(fs::path(ck.files()[0].path()).filename(), "model-00001-of-00002.safetensors");
        EXPECT_EQ(fs::path(ck.files()[1].path()).filename(), "model-00002-of-00002.safetensors");
        const auto all = ck.tensors();
        ASSERT_EQ(all.size(), 3u);
        // File order, then offset order within a file (F32 before U8: the writer's order).
        EXPECT_EQ(all[0]->name, "a.weight");
        EXPECT_EQ(all[1]->name, "b.weight");
        EXPECT_EQ(all[2]->name, "c.weight");
        EXPECT_EQ(view_bytes(*ck.find("a.weight")), bytes_of<float>({1, 2}));
        EXPECT_EQ(view_bytes(*ck.find("b.weight")), (std::vector<uint8_t>{7, 8, 9}));
        EXPECT_EQ(view_bytes(*ck.find("c.weight")), bytes_of<uint16_t>({0x3f80, 0x4000}));
        EXPECT_EQ(fs::path(ck.file_of("c.weight")).filename(), "model-00002-of-00002.safetensors");
        EXPECT_TRUE(ck.unindexed().empty());
    }
}

TEST(SafetensorsCheckpoint, SingleFileWinsOverIndexInAFolder) {
    Sharded s("ck_both");
    write_safetensors(s.dir + "/model.safetensors", {from_bytes("only", DType::U8, {1}, {1})});
    const auto ck = SafetensorsCheckpoint::open(s.dir);
    EXPECT_FALSE(ck.sharded());
    EXPECT_NE(ck.find("only"), nullptr);
    EXPECT_EQ(ck.find("a.weight"), nullptr);
}

TEST(SafetensorsCheckpoint, UnindexedTensorIsIncludedAndReported) {
    Sharded s("ck_unindexed");
    s.write_index(R"({"weight_map":{"a.weight":"model-00001-of-00002.safetensors",)"
                  R"("c.weight":"model-00002-of-00002.safetensors"}})");
    const auto ck = SafetensorsCheckpoint::open(s.dir);
    EXPECT_EQ(ck.tensors().size(), 3u);
    ASSERT_NE(ck.find("b.weight"), nullptr);
    EXPECT_EQ(ck.unindexed(), (std::vector<std::string>{"b.weight"}));
}

TEST(SafetensorsCheckpoint, IndexPointingToAMissingShard) {
    Sharded s("ck_missing_shard");
    s.write_index(R"({"weight_map":{"a.weight":"model-00001-of-00002.safetensors",)"
                  R"("c.weight":"model-00003-of-00002.safetensors"}})");
    expect_contains(error_of(s.dir), {"model.safetensors.index.json", "model-00003-of-00002.safetensors", "c.weight",
                                      "does not exist"});
}

TEST(SafetensorsCheckpoint, IndexPointingToAMissingTensor) {
    Sharded s("ck_missing_tensor");
    s.write_index(R"({"weight_map":{"a.weight":"model-00001-of-00002.safetensors",)"
                  R"("c.weight":"model-00001-of-00002.safetensors"}})");
    const auto m = error_of(s.index());
    expect_contains(m, {"model.safetensors.index.json", "\"c.weight\"", "model-00001-of-00002.safetensors",
                        "no tensor of that name"});
    EXPECT_THROW(SafetensorsCheckpoint::open(s.index()), FormatError);
}

TEST(SafetensorsCheckpoint, ShardNamesMustBePlainFileNames) {
    Sharded s("ck_shard_names");
    fs::create_directories(s.dir + "/sub");
    fs::copy_file(s.dir + "/model-00002-of-00002.safetensors", s.dir + "/sub/x.safetensors");
    for (const std::string bad : {"sub/x.safetensors", "../ck/x.safetensors", "..", ".", "", "sub\\\\x.safetensors",
                                  "/etc/passwd"}) {
        SCOPED_TRACE(bad);
        s.write_index(R"({"weight_map":{"c.weight":")" + bad + R"("}})");
        std::string m;
        try {
            SafetensorsCheckpoint::open(s.dir);
            ADD_FAILURE() << "accepted";
        } catch (const FormatError& e) {
            m = e.what();
        }
        expect_contains(m, {"\"c.weight\"", "not a plain file name"});
    }
}

TEST(SafetensorsCheckpoint, DuplicateAcrossShards) {
    Sharded s("ck_dup");
    write_safetensors(s.dir + "/model-00002-of-00002.safetensors",
                      {from_bytes("c.weight", DType::BF16, {2}, bytes_of<uint16_t>({0, 0})),
                       from_bytes("a.weight", DType::F32, {2}, bytes_of<float>({3, 4}))});
    expect_contains(error_of(s.dir), {"\"a.weight\"", "model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors", "both"});
}

TEST(SafetensorsCheckpoint, MalformedIndex) {
    Sharded s("ck_bad_index");
    s.write_index("{\n  \"weight_map\": {\n    \"a.weight\": model\n  }\n}\n");
    expect_contains(error_of(s.dir), {"model.safetensors.index.json", "invalid JSON", "line 3"});
    s.write_index(R"({"metadata":{}})");
    expect_contains(error_of(s.dir), {"no \"weight_map\""});
    s.write_index(R"({"weight_map":[]})");
    expect_contains(error_of(s.dir), {"\"weight_map\" is a JSON array"});
    s.write_index(R"({"weight_map":{}})");
    expect_contains(error_of(s.dir), {"lists no tensors"});
    s.write_index(R"({"weight_map":{"a.weight":1}})");
    expect_contains(error_of(s.dir), {"\"a.weight\"", "JSON number"});
    s.write_index(R"([1])");
    expect_contains(error_of(s.dir), {"expected an object"});
    s.write_index("");
    expect_contains(error_of(s.dir), {"empty"});
}

TEST(SafetensorsCheckpoint, BadShardIsReportedWithItsName) {
    Sharded s("ck_bad_shard");
    write_file(s.dir + "/model-00002-of-00002.safetensors", raw_safetensors("{\"c.weight\":1}", 0));
    expect_contains(error_of(s.dir), {"model-00002-of-00002.safetensors", "\"c.weight\""});
}

TEST(SafetensorsCheckpoint, NothingThere) {
    const auto dir = scratch_dir("ck_empty");
    expect_contains(error_of(dir), {"model.safetensors", "model.safetensors.index.json"});
    expect_contains(error_of(dir + "/nope.safetensors"), {"nope.safetensors"});
    expect_contains(error_of(dir + "/nope.index.json"), {"nope.index.json"});
}

}  // namespace
}  // namespace gd::test
