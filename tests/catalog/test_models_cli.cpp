// gemmadesk-cli models as a user runs it: a folder given with --folder, the standard places off,
// JSON parsed back, and the table.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "catalog/catalog_support.h"
#include "support/test_support.h"

namespace gd {
namespace {

int cli(const std::string& args, std::string* out) {
    // The CLI builds with the test targets; say so plainly when it is missing rather than fail obscurely.
    if (!std::filesystem::exists(test::cli_path())) {
        *out = "gemmadesk-cli is not built (" + test::cli_path() + "): build the gemmadesk-cli target";
        return -1;
    }
    return test::run_command(test::cli_path() + " " + args, out);
}

TEST(ModelsCli, JsonListsTheFolderWithEveryField) {
    const std::string dir = test::scratch_dir("cli_models");
    const auto files = test::write_tiny_model(Variant::E4B, TestModelFormat::Gguf, DType::Q8_0, dir + "/a/gemma-4-E4B-it-Q8_0.gguf");
    test::write_foreign_gguf(dir + "/b/llama.gguf", "llama");
    std::string out;
    ASSERT_EQ(cli("models --no-standard --folder " + dir + "/a --folder=" + dir + "/b --json 2>/dev/null", &out), 0) << out;
    const auto j = nlohmann::json::parse(out);
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 2u) << out;
    const auto& m = j[0];
    EXPECT_EQ(m["name"], "gemma-4-E4B-it (Q8_0)");
    EXPECT_EQ(m["source"], "folder");
    EXPECT_EQ(m["load_paths"], nlohmann::json(files));
    EXPECT_EQ(m["format"], "GGUF");
    EXPECT_EQ(m["variant"], "e4b");
    EXPECT_EQ(m["tiny_test_model"], true);
    EXPECT_EQ(m["quantization"], "q8_0");
    EXPECT_EQ(m["has_text"], true);
    EXPECT_EQ(m["has_vision"], true);
    EXPECT_EQ(m["has_audio"], true);
    EXPECT_EQ(m["disk_bytes"].get<uint64_t>(), test::total_size(files));
    EXPECT_GT(m["memory_bytes"].get<uint64_t>(), m["disk_bytes"].get<uint64_t>());
    EXPECT_GT(m["host_resident_bytes"].get<uint64_t>(), 0u);
    EXPECT_EQ(m["max_context"], 4096);
    EXPECT_EQ(m["error"], "");
    ASSERT_TRUE(m["fit"].is_object());
    EXPECT_TRUE(m["fit"]["verdict"] == "fits" || m["fit"]["verdict"] == "tight") << m["fit"];
    EXPECT_FALSE(m["fit"]["summary"].get<std::string>().empty());
    EXPECT_EQ(j[1]["name"], "llama");
    EXPECT_EQ(j[1]["error"], "not a Gemma 4 model (architecture llama)");
    EXPECT_TRUE(j[1]["fit"].is_null());
}

TEST(ModelsCli, TableAndUsage) {
    const std::string dir = test::scratch_dir("cli_models_table");
    test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, dir + "/m.gguf");
    std::string out;
    ASSERT_EQ(cli("models --no-standard --folder " + dir, &out), 0) << out;
    for (const char* s : {"NAME", "m ", "e2b*", "text+image+audio", "tiny random test model"})
        EXPECT_NE(out.find(s), std::string::npos) << s << "\n" << out;
    out.clear();
    ASSERT_EQ(cli("models --no-standard --json", &out), 0) << out;
    EXPECT_EQ(nlohmann::json::parse(out), nlohmann::json::array());
    out.clear();
    EXPECT_EQ(cli("models --folder", &out), 2);
    EXPECT_NE(out.find("--folder needs a value"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("models " + dir, &out), 2);
    EXPECT_NE(out.find("folders go after --folder"), std::string::npos) << out;
    out.clear();
    EXPECT_EQ(cli("models --help", &out), 0);
    EXPECT_NE(out.find("usage: gemmadesk-cli models"), std::string::npos) << out;
}

}  // namespace
}  // namespace gd
