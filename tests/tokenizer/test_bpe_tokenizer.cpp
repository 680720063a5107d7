// The BPE tokenizer against Hugging Face `tokenizers` (goldens from
// tools/reference/make_tokenizer_goldens.py): the tiny test-model tokenizer, the real 262k Gemma 3
// vocabulary when ../shared is there, GGUF vs tokenizer.json, invalid UTF-8 and malformed files.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "format/gguf.h"
#include "format/gguf_writer.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"
#include "tokenizer/bpe_tokenizer.h"

namespace gd {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json load_json(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return json::parse(ss.str());
}

std::string tiny_path() { return test::data_dir() + "/tokenizer/tiny_tokenizer.json"; }
std::string gemma3_path() { return test::shared_fixtures_dir() + "/gemma3-tokenizer/tokenizer.json"; }

const BpeTokenizer& tiny() {
    static const BpeTokenizer t = BpeTokenizer::from_tokenizer_json(load_json(tiny_path()));
    return t;
}

const BpeTokenizer* gemma3() {
    static const BpeTokenizer* t = [] {
        if (!fs::exists(gemma3_path())) return static_cast<BpeTokenizer*>(nullptr);
        return new BpeTokenizer(BpeTokenizer::from_tokenizer_json(load_json(gemma3_path())));
    }();
    return t;
}

std::vector<int32_t> ids_of(const json& a) { return a.get<std::vector<int32_t>>(); }

void check_goldens(const BpeTokenizer& tok, const std::string& golden_file) {
    const json g = load_json(test::data_dir() + "/tokenizer/" + golden_file);
    EXPECT_EQ(tok.vocab_size(), g["vocab_size"].get<size_t>());
    ASSERT_GT(g["cases"].size(), 30u);
    for (const json& c : g["cases"]) {
        const std::string name = c["name"];
        const std::string text = c["text"];
        const auto ids = tok.encode(text);
        EXPECT_EQ(ids, ids_of(c["ids"])) << name;
        EXPECT_EQ(tok.encode(text, false), ids_of(c["ids_no_special"])) << name;
        EXPECT_EQ(tok.decode(ids_of(c["ids"])), c["decoded"].get<std::string>()) << name;
        // Round trip for every valid-UTF-8 string, except that a literal U+2581 comes back as a space.
        if (text.find("\xE2\x96\x81") == std::string::npos) {
            EXPECT_EQ(tok.decode(ids), text) << name;
        }
    }
    ASSERT_FALSE(g["decode_cases"].empty());
    for (const json& c : g["decode_cases"])
        EXPECT_EQ(tok.decode(ids_of(c["ids"])), c["text"].get<std::string>()) << c["name"].get<std::string>();
}

TEST(BpeTokenizer, TinyMatchesHuggingFaceTokenizers) { check_goldens(tiny(), "goldens_tiny.json"); }

TEST(BpeTokenizer, Gemma3VocabularyMatchesHuggingFaceTokenizers) {
    const BpeTokenizer* t = gemma3();
    if (!t) GTEST_SKIP() << "the Gemma 3 tokenizer fixture is absent (" << gemma3_path() << ")";
    EXPECT_EQ(t->vocab_size(), 262145u);  // 262,144 model pieces plus the added <image_soft_token>
    EXPECT_EQ(t->token_id("<bos>"), 2);
    EXPECT_EQ(t->token_id("<start_of_turn>"), 105);
    check_goldens(*t, "goldens_gemma3.json");
}

TEST(BpeTokenizer, PiecesAndIds) {
    const BpeTokenizer& t = tiny();
    EXPECT_EQ(t.token_id("<bos>"), 2);
    EXPECT_EQ(t.token_id("<|turn>"), 5);
    EXPECT_EQ(t.token_id("<0x0A>"), 34);
    EXPECT_EQ(t.token_id("no such piece"), -1);
    EXPECT_EQ(t.piece(5), "<|turn>");
    EXPECT_THROW(t.piece(-1), Error);
    EXPECT_THROW(t.piece(static_cast<int32_t>(t.vocab_size())), Error);
    EXPECT_THROW(t.decode({1, -3}), Error);
    EXPECT_THROW(t.decode({static_cast<int32_t>(t.vocab_size())}), Error);
    EXPECT_TRUE(t.encode("").empty());
    EXPECT_EQ(t.decode({}), "");
}

// tokenizers cannot be given invalid UTF-8 (it takes Python str). Ours: every byte that does not
// start a valid UTF-8 character becomes its own <0xNN> byte token; valid characters around it are
// tokenized as usual; decoding gives U+FFFD per byte of the invalid byte run.
TEST(BpeTokenizer, InvalidUtf8BecomesByteTokens) {
    const BpeTokenizer& t = tiny();
    auto byte = [&](unsigned b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        return t.token_id(buf);
    };
    const int32_t a = t.token_id("a"), b = t.token_id("b");
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    EXPECT_EQ(t.encode("a\xFF" "b"), (std::vector<int32_t>{a, byte(0xFF), b}));
    // Truncated sequence, overlong form, UTF-16 surrogate, beyond U+10FFFF, lone continuation.
    EXPECT_EQ(t.encode("a\xE4\xB8"), (std::vector<int32_t>{a, byte(0xE4), byte(0xB8)}));
    EXPECT_EQ(t.encode("\xC0\x80"), (std::vector<int32_t>{byte(0xC0), byte(0x80)}));
    EXPECT_EQ(t.encode("\xED\xA0\x80"), (std::vector<int32_t>{byte(0xED), byte(0xA0), byte(0x80)}));
    EXPECT_EQ(t.encode("\xF4\x90\x80\x80"), (std::vector<int32_t>{byte(0xF4), byte(0x90), byte(0x80), byte(0x80)}));
    EXPECT_EQ(t.encode("\x80" "a"), (std::vector<int32_t>{byte(0x80), a}));
    // A valid character right after an invalid byte is still one character.
    const auto with_cjk = t.encode("\xFF\xE4\xB8\xAD");
    EXPECT_EQ(with_cjk, (std::vector<int32_t>{byte(0xFF), byte(0xE4), byte(0xB8), byte(0xAD)}));
    EXPECT_EQ(t.decode(with_cjk), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // the run as a whole is invalid
    EXPECT_EQ(t.decode(t.encode("a\xFF" "b")), "a\xEF\xBF\xBD" "b");
    // Special tokens are still found around invalid bytes.
    EXPECT_EQ(t.encode("\xFF<bos>\xFE"), (std::vector<int32_t>{byte(0xFF), 2, byte(0xFE)}));
}

// Encoding is one BPE word per stretch between added tokens: must be O(n log n).
TEST(BpeTokenizer, LongInputIsNotQuadratic) {
    const BpeTokenizer& t = tiny();
    std::string text;
    while (text.size() < 400000) text += "The capital of France is Paris. Gemma runs offline; a=b+c*d. ";
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = t.encode(text);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(t.decode(ids), text);
    EXPECT_LT(s, 20.0);  // generous for sanitizer builds; quadratic would take hours
    const std::string as(300000, 'a');
    EXPECT_EQ(t.decode(t.encode(as)), as);
}

std::string make_model(const std::string& dir, TestModelFormat fmt) {
    TestModelOptions o;
    o.variant = Variant::E2B;
    o.format = fmt;
    o.seed = 1;
    o.threads = 2;
    o.out = dir + (fmt == TestModelFormat::Gguf ? "/model.gguf" : "/hf");
    write_test_model(o);
    return o.out;
}

TEST(BpeTokenizer, GgufAndTokenizerJsonOfATestModelAgree) {
    const std::string dir = test::scratch_dir("tokenizer_gguf_vs_json");
    const GgufFile g = GgufFile::open(make_model(dir, TestModelFormat::Gguf));
    const std::string hf = make_model(dir, TestModelFormat::Safetensors);
    const BpeTokenizer a = BpeTokenizer::from_gguf(g);
    const BpeTokenizer b = BpeTokenizer::from_tokenizer_json(load_json(hf + "/tokenizer.json"));
    ASSERT_EQ(a.vocab_size(), b.vocab_size());
    for (int32_t i = 0; i < static_cast<int32_t>(a.vocab_size()); ++i) EXPECT_EQ(a.piece(i), b.piece(i));
    const json gold = load_json(test::data_dir() + "/tokenizer/goldens_tiny.json");
    for (const json& c : gold["cases"]) {
        const std::string text = c["text"];
        EXPECT_EQ(a.encode(text), b.encode(text)) << c["name"].get<std::string>();
        EXPECT_EQ(a.encode(text, false), b.encode(text, false)) << c["name"].get<std::string>();
        EXPECT_EQ(a.decode(b.encode(text)), b.decode(b.encode(text)));
    }
    // The test model's tokenizer.json is the one the goldens were made from.
    EXPECT_EQ(load_json(hf + "/tokenizer.json"), load_json(tiny_path()));
}

json minimal() {
    return json::parse(R"({
      "added_tokens": [{"id": 0, "content": "<unk>", "special": true}],
      "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true, "fuse_unk": true,
                "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "\u2581": 4},
                "merges": [["a", "b"]]}})");
}

TEST(BpeTokenizer, MinimalTokenizerAndUnknownFusion) {
    const BpeTokenizer t = BpeTokenizer::from_tokenizer_json(minimal());
    EXPECT_EQ(t.encode("ab a"), (std::vector<int32_t>{3, 4, 1}));
    // No byte tokens: unknown characters become <unk>, consecutive ones fused.
    EXPECT_EQ(t.encode("xyzab\xFFq"), (std::vector<int32_t>{0, 3, 0}));
    json old_style = minimal();
    old_style["model"]["merges"] = json::array({"a b"});
    EXPECT_EQ(BpeTokenizer::from_tokenizer_json(old_style).encode("ab"), (std::vector<int32_t>{3}));
}

TEST(BpeTokenizer, MalformedTokenizerJsonThrows) {
    auto bad = [](const std::function<void(json&)>& edit) {
        json j = minimal();
        edit(j);
        return j;
    };
    const std::vector<std::pair<const char*, json>> cases = {
        {"not an object", json::array()},
        {"no model", bad([](json& j) { j.erase("model"); })},
        {"not BPE", bad([](json& j) { j["model"]["type"] = "Unigram"; })},
        {"vocab not object", bad([](json& j) { j["model"]["vocab"] = json::array(); })},
        {"id not integer", bad([](json& j) { j["model"]["vocab"]["c"] = "5"; })},
        {"negative id", bad([](json& j) { j["model"]["vocab"]["c"] = -1; })},
        {"huge id", bad([](json& j) { j["model"]["vocab"]["c"] = 1LL << 40; })},
        {"hole in ids", bad([](json& j) { j["model"]["vocab"]["c"] = 9; })},
        {"duplicate id", bad([](json& j) { j["model"]["vocab"]["c"] = 2; })},
        {"merge of unknown piece", bad([](json& j) { j["model"]["merges"].push_back({"a", "zz"}); })},
        {"merge result unknown", bad([](json& j) { j["model"]["merges"].push_back({"b", "a"}); })},
        {"merge not a pair", bad([](json& j) { j["model"]["merges"].push_back({"a"}); })},
        {"merge string without space", bad([](json& j) { j["model"]["merges"].push_back("ab"); })},
        {"merge string with two spaces", bad([](json& j) { j["model"]["merges"].push_back("a b c"); })},
        {"merges not array", bad([](json& j) { j["model"]["merges"] = 3; })},
        {"unk not in vocab", bad([](json& j) { j["model"]["unk_token"] = "<nope>"; })},
        {"added token without id", bad([](json& j) { j["added_tokens"].push_back({{"content", "x"}}); })},
        {"added token empty", bad([](json& j) { j["added_tokens"].push_back({{"content", ""}, {"id", 5}}); })},
        {"added token id clash", bad([](json& j) { j["added_tokens"].push_back({{"content", "x"}, {"id", 1}}); })},
        {"added_tokens not array", bad([](json& j) { j["added_tokens"] = "x"; })},
        {"byte_fallback not bool", bad([](json& j) { j["model"]["byte_fallback"] = "yes"; })},
        {"dropout", bad([](json& j) { j["model"]["dropout"] = 0.1; })},
    };
    for (const auto& [what, j] : cases) {
        EXPECT_THROW(BpeTokenizer::from_tokenizer_json(j), FormatError) << what;
    }
    // An added token beyond the model vocabulary is fine when ids stay contiguous.
    json ok = minimal();
    ok["added_tokens"].push_back({{"content", "<x>"}, {"id", 5}, {"special", true}});
    const BpeTokenizer t = BpeTokenizer::from_tokenizer_json(ok);
    EXPECT_EQ(t.vocab_size(), 6u);
    EXPECT_EQ(t.encode("a<x>b"), (std::vector<int32_t>{1, 5, 2}));
    EXPECT_EQ(t.encode("a<x>b", false), (std::vector<int32_t>{1, 0, 2}));
}

GgufValue strings(const std::vector<std::string>& v) {
    std::vector<GgufValue> out;
    for (const auto& s : v) out.push_back(GgufValue::make_string(s));
    return GgufValue::make_array(GgufType::STRING, out);
}

BpeTokenizer gguf_tokenizer(const std::string& dir, const std::function<void(GgufWriter&)>& edit) {
    GgufWriter w;
    w.set_string("general.architecture", "gemma4");
    w.set_string("tokenizer.ggml.model", "gemma4");
    w.set("tokenizer.ggml.tokens", strings({"<unk>", "a", "b", "ab", "<x>"}));
    w.set("tokenizer.ggml.token_type",
          GgufValue::make_array(GgufType::INT32, {GgufValue::make_i32(2), GgufValue::make_i32(1), GgufValue::make_i32(1),
                                                  GgufValue::make_i32(1), GgufValue::make_i32(4)}));
    w.set("tokenizer.ggml.merges", strings({"a b"}));
    edit(w);
    const std::string path = dir + "/t.gguf";
    w.write(path);
    return BpeTokenizer::from_gguf(GgufFile::open(path));
}

TEST(BpeTokenizer, GgufTokenizerAndMalformedGgufThrows) {
    const std::string dir = test::scratch_dir("tokenizer_gguf_malformed");
    const BpeTokenizer t = gguf_tokenizer(dir, [](GgufWriter&) {});
    EXPECT_EQ(t.encode("ab<x>ba"), (std::vector<int32_t>{3, 4, 2, 1}));
    EXPECT_EQ(t.encode("ab<x>", false), (std::vector<int32_t>{3, 4}));  // user-defined: still matched
    EXPECT_EQ(t.encode("zz"), (std::vector<int32_t>{0}));             // no byte tokens: fused <unk>
    const std::vector<std::pair<const char*, std::function<void(GgufWriter&)>>> cases = {
        {"tokens not strings", [](GgufWriter& w) { w.set_u32("tokenizer.ggml.tokens", 3); }},
        {"empty tokens", [](GgufWriter& w) { w.set("tokenizer.ggml.tokens", strings({})); }},
        {"types size", [](GgufWriter& w) {
             w.set("tokenizer.ggml.token_type", GgufValue::make_array(GgufType::INT32, {GgufValue::make_i32(1)}));
         }},
        {"merge unknown", [](GgufWriter& w) { w.set("tokenizer.ggml.merges", strings({"a zz"})); }},
        {"merge result unknown", [](GgufWriter& w) { w.set("tokenizer.ggml.merges", strings({"b a"})); }},
        {"merge no space", [](GgufWriter& w) { w.set("tokenizer.ggml.merges", strings({"ab"})); }},
        {"merges not strings", [](GgufWriter& w) { w.set_u32("tokenizer.ggml.merges", 1); }},
        {"unk out of range", [](GgufWriter& w) { w.set_u32("tokenizer.ggml.unknown_token_id", 99); }},
        {"other model", [](GgufWriter& w) { w.set_string("tokenizer.ggml.model", "gpt2"); }},
    };
    for (const auto& [what, edit] : cases) EXPECT_THROW(gguf_tokenizer(dir, edit), FormatError) << what;
}

// Throughput with the real vocabulary; run by hand in a Release build:
//   test_tokenizer --gtest_also_run_disabled_tests --gtest_filter='*Throughput*'
TEST(BpeTokenizer, DISABLED_Throughput1MB) {
    const BpeTokenizer* t = gemma3();
    if (!t) GTEST_SKIP() << "the Gemma 3 tokenizer fixture is absent";
    const json g = load_json(test::data_dir() + "/tokenizer/goldens_gemma3.json");
    std::string text;
    for (const json& c : g["cases"])
        if (c["name"] != "literal_space_marks") text += c["text"].get<std::string>();
    std::string mb;
    while (mb.size() < (1u << 20)) mb += text;
    mb.resize(1u << 20);
    while ((static_cast<uint8_t>(mb.back()) & 0xC0) == 0x80 || static_cast<uint8_t>(mb.back()) >= 0xC0) mb.pop_back();
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = t->encode(mb);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto t1 = std::chrono::steady_clock::now();
    const std::string back = t->decode(ids);
    const double sd = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    EXPECT_EQ(back, mb);
    std::printf("encode: %zu bytes -> %zu ids in %.3f s = %.2f MB/s; decode %.3f s\n", mb.size(), ids.size(), s,
                mb.size() / s / 1e6, sd);
}

}  // namespace
}  // namespace gd
