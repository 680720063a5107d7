// The CLI contract for images (vision issue §5), on tiny test models with the multimodal reference's
// seed: `encode --json` gives the resized size, the token count and the soft tokens transformers
// computes; `generate --chat --image ... --json` reports each image and answers as transformers does
// (tests/data/reference/multimodal_cases.json); --mmproj is found next to a GGUF or given; bad
// budgets and bad files are clear errors with a non-zero exit.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "format/safetensors.h"
#include "support/test_support.h"

namespace gd {
namespace {

using json = nlohmann::json;

const json& cases() { return test::data_json("reference/multimodal_cases.json"); }

const json& find_case(const std::string& variant, const std::string& name) {
    for (const json& c : cases().at("cases"))
        if (c.at("variant") == variant && c.at("case") == name) return c;
    throw std::runtime_error("no reference case " + variant + "/" + name);
}

std::string tiny_model(const std::string& variant, bool gguf) {
    static std::map<std::string, std::string> made;
    const std::string key = variant + (gguf ? "-gguf" : "-st");
    if (made.count(key)) return made[key];
    const std::string dir = test::scratch_dir("cli-image-" + key);
    const std::string out = gguf ? dir + "/model.gguf" : dir;
    std::string log;
    EXPECT_EQ(test::run_command(test::cli_path() + " make-test-model --variant " + variant + " --seed 1 --format " +
                                    (gguf ? "gguf" : "safetensors") + " --out " + out,
                                &log),
              0)
        << log;
    return made[key] = out;
}

std::string image(const std::string& name) { return test::data_dir() + "/vision/e2e/" + name; }

json run_json(const std::string& args) {
    std::string out;
    const int rc = test::run_command(test::cli_path() + " " + args + " 2>/dev/null", &out);
    EXPECT_EQ(rc, 0) << args << "\n" << out;
    return json::parse(out);
}

TEST(ImageCli, EncodeJsonGivesTheReferenceSoftTokens) {
    const json& c = find_case("e2b", "two");
    const SafetensorsFile ref = SafetensorsFile::open(test::data_dir() + "/reference/" + c.at("file").get<std::string>());
    const TensorView* soft = ref.find("soft_tokens_f64");
    ASSERT_NE(soft, nullptr);
    const float* want = reinterpret_cast<const float*>(soft->data);
    // square.png: 256 tokens at 768x768, then wide.png: 260 tokens at 960x624 (w x h).
    int64_t row0 = 0;
    for (const auto& [file, w, h, tokens] : {std::tuple{"square.png", 768, 768, 256}, std::tuple{"wide.png", 960, 624, 260}}) {
        const json j = run_json("encode --model " + tiny_model("e2b", true) + " --image " + image(file) + " --json");
        EXPECT_EQ(j.at("kind"), "image");
        EXPECT_EQ(j.at("width"), w);
        EXPECT_EQ(j.at("height"), h);
        EXPECT_EQ(j.at("tokens"), tokens);
        EXPECT_EQ(j.at("grid"), json::array({w / 16, h / 16}));
        const json& e = j.at("embeddings");
        ASSERT_EQ(e.size(), static_cast<size_t>(tokens));
        ASSERT_EQ(e.at(0).size(), 128u);
        double diff = 0, scale = 0;
        for (int64_t r = 0; r < tokens; ++r)
            for (size_t k = 0; k < 128; ++k) {
                const double ref_v = want[(row0 + r) * 128 + static_cast<int64_t>(k)];
                diff = std::max(diff, std::abs(e[static_cast<size_t>(r)][k].get<double>() - ref_v));
                scale = std::max(scale, std::abs(ref_v));
            }
        // JSON prints floats to 9 significant digits; the bound is the tower's f32 tolerance.
        EXPECT_LE(diff / scale, 3 * c.at("f32_error").at("soft_tokens").get<double>()) << file;
        row0 += tokens;
    }
}

TEST(ImageCli, GenerateWithImagesReportsThemAndAnswersLikeTransformers) {
    for (bool gguf : {false, true}) {
        const json& c = find_case("31b", "two");
        const std::string model = tiny_model("31b", gguf);
        const json j = run_json("generate --model " + model + " --image " + image("square.png") + " --image " +
                                image("wide.png") + " --chat '" + c.at("question").get<std::string>() +
                                "' --temperature 0 --max-tokens 16 --json");
        EXPECT_EQ(j.at("prompt_ids"), c.at("input_ids"));
        ASSERT_EQ(j.at("images").size(), 2u);
        EXPECT_EQ(j.at("images")[0].at("tokens"), 256);
        EXPECT_EQ(j.at("images")[1].at("width"), 960);
        EXPECT_EQ(j.at("images")[1].at("height"), 624);
        EXPECT_EQ(j.at("images")[1].at("grid"), json::array({60, 39}));
        std::vector<int32_t> ids;
        for (const json& s : j.at("steps")) ids.push_back(s.at("id"));
        // The reference generated 16 tokens; ours stops where the model's stop tokens say.
        const auto want = c.at("greedy").get<std::vector<int32_t>>();
        ASSERT_LE(ids.size(), want.size());
        EXPECT_EQ(ids, std::vector<int32_t>(want.begin(), want.begin() + static_cast<std::ptrdiff_t>(ids.size())));
    }
}

TEST(ImageCli, MmprojCanBeGivenExplicitlyAndItsAbsenceIsExplained) {
    const std::string model = tiny_model("e2b", true);
    const std::string dir = model.substr(0, model.rfind('/'));
    const std::string lone = test::scratch_dir("cli-image-lone") + "/model.gguf";
    std::string out;
    ASSERT_EQ(test::run_command("cp " + model + " " + lone, &out), 0) << out;
    // Without its mmproj the model is text-only, and says so when given an image.
    EXPECT_NE(test::run_command(test::cli_path() + " encode --model " + lone + " --image " + image("wide.png"), &out), 0);
    EXPECT_NE(out.find("mmproj"), std::string::npos) << out;
    // With --mmproj it works.
    const json j = run_json("encode --model " + lone + " --mmproj " + dir + "/mmproj-model.gguf --image " + image("wide.png") +
                            " --image-tokens 70 --json");
    EXPECT_EQ(j.at("tokens"), 60);  // 300x200 at 70 tokens -> 480x288 -> 10x6 pooled
}

TEST(ImageCli, BadBudgetsAndFilesAreClearErrors) {
    const std::string model = tiny_model("e2b", true);
    std::string out;
    EXPECT_EQ(test::run_command(test::cli_path() + " encode --model " + model + " --image " + image("wide.png") +
                                    " --image-tokens 2000",
                                &out),
              2)
        << out;
    EXPECT_NE(out.find("1..1120"), std::string::npos) << out;
    EXPECT_NE(test::run_command(test::cli_path() + " generate --model " + model + " --image " + image("wide.png") +
                                    " --prompt hi",
                                &out),
              0);
    EXPECT_NE(out.find("--chat"), std::string::npos) << out;
    const std::string junk = test::scratch_dir("cli-image-junk") + "/notes.png";
    test::write_file(junk, {'h', 'e', 'l', 'l', 'o'});
    EXPECT_NE(test::run_command(test::cli_path() + " encode --model " + model + " --image " + junk, &out), 0);
    EXPECT_NE(out.find("notes.png"), std::string::npos) << out;
    EXPECT_EQ(out.find("terminate"), std::string::npos) << "a clean error, not a crash: " << out;
}

}  // namespace
}  // namespace gd
