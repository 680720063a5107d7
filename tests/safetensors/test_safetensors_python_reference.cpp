// Cross-check with the official Python `safetensors` library: tests/data/safetensors/
// python_reference.safetensors was written by it (tools/reference/make_safetensors_fixture.py) and
// python_reference.json says what it holds. We must read it exactly, and our writer given the same
// tensors must produce the same bytes. (No Python is needed to run this test.)
#include <gtest/gtest.h>

#include <cstdio>

#include "format/hf_folder.h"
#include "format/safetensors.h"
#include "support/test_support.h"
#include "test_st_helpers.h"

namespace gd::test {
namespace {

std::vector<uint8_t> from_hex(const std::string& hex) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

struct Reference {
    nlohmann::json desc;
    std::string file;
};

Reference reference() {
    const auto dir = data_dir() + "/safetensors";
    return {read_json_file(dir + "/python_reference.json", 1 << 20), dir + "/python_reference.safetensors"};
}

TEST(SafetensorsPythonReference, ReadsTheFileExactly) {
    const auto ref = reference();
    const auto f = SafetensorsFile::open(ref.file);
    const auto& tensors = ref.desc.at("tensors");
    ASSERT_EQ(f.tensors().size(), tensors.size());
    EXPECT_EQ(f.header_metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
    for (auto it = tensors.begin(); it != tensors.end(); ++it) {
        SCOPED_TRACE(it.key());
        const TensorView* t = f.find(it.key());
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->type, *dtype_from_safetensors(it->at("dtype").get<std::string>()));
        EXPECT_EQ(t->shape, it->at("shape").get<std::vector<uint64_t>>());
        EXPECT_EQ(view_bytes(*t), from_hex(it->at("hex").get<std::string>()));
    }
    // Spot checks of values, independent of the description file.
    const auto* bf = f.find("bf16.norm");
    ASSERT_NE(bf, nullptr);
    EXPECT_EQ(view_bytes(*bf), bytes_of<uint16_t>({0x3f80, 0xbf00, 0x4049, 0x477f}));
    const auto* u64 = f.find("u64.vals");
    ASSERT_NE(u64, nullptr);
    EXPECT_EQ(view_bytes(*u64), bytes_of<uint64_t>({~0ull}));
    EXPECT_TRUE(f.find("f32.scalar")->shape.empty());
    EXPECT_EQ(f.find("f32.empty")->nbytes, 0u);
}

TEST(SafetensorsPythonReference, OurWriterProducesTheSameBytes) {
    const auto ref = reference();
    std::vector<SafetensorsWriteTensor> w;
    const auto& tensors = ref.desc.at("tensors");
    for (auto it = tensors.begin(); it != tensors.end(); ++it)
        w.push_back(from_bytes(it.key(), *dtype_from_safetensors(it->at("dtype").get<std::string>()),
                               it->at("shape").get<std::vector<uint64_t>>(), from_hex(it->at("hex").get<std::string>())));
    const auto out = scratch_dir("st_pyref") + "/ours.safetensors";
    write_safetensors(out, w, ref.desc.at("metadata").get<std::map<std::string, std::string>>());
    const auto ours = read_file(out);
    const auto theirs = read_file(ref.file);
    EXPECT_EQ(ours.size(), theirs.size());
    EXPECT_TRUE(ours == theirs) << "header ours:   " << std::string(ours.begin() + 8, ours.begin() + std::min<size_t>(ours.size(), 400))
                                << "\nheader theirs: "
                                << std::string(theirs.begin() + 8, theirs.begin() + std::min<size_t>(theirs.size(), 400));
}

TEST(SafetensorsPythonReference, HfFolderWeightsWrittenByPython) {
    // hf_folder/model.safetensors comes from the same script; our writer reproduces it too.
    const auto path = data_dir() + "/safetensors/hf_folder/model.safetensors";
    const auto f = SafetensorsFile::open(path);
    std::vector<SafetensorsWriteTensor> w;
    for (const auto& t : f.tensors()) w.push_back(from_bytes(t.name, t.type, t.shape, view_bytes(t)));
    const auto out = scratch_dir("st_pyref_hf") + "/model.safetensors";
    write_safetensors(out, w, f.header_metadata());
    EXPECT_TRUE(read_file(out) == read_file(path));
}

}  // namespace
}  // namespace gd::test
