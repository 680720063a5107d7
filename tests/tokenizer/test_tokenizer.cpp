// The tokenizer front door (tokenizer/tokenizer.h) and its SentencePiece path against transformers:
// tests/data/tokenizer/tiny_tokenizer.model (the tiny vocabulary as a SentencePiece model, made by
// tools/reference/make_spm_model.py) must give transformers' ids (goldens_tiny_spm.json, from
// GemmaTokenizer loading that file), and load_tokenizer must pick the right file of a model.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "model/model_files.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace gd {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

json load_json(const std::string& path) { return json::parse(read_all(path)); }
std::string tok_data(const std::string& name) { return test::data_dir() + "/tokenizer/" + name; }
std::vector<int32_t> ids_of(const json& a) { return a.get<std::vector<int32_t>>(); }

const Tokenizer& spm() {
    static const Tokenizer t(SentencePieceTokenizer::from_file(tok_data("tiny_tokenizer.model")));
    return t;
}

const Tokenizer& bpe() {
    static const Tokenizer t(BpeTokenizer::from_tokenizer_json(load_json(tok_data("tiny_tokenizer.json"))));
    return t;
}

// Every golden: ids with and without special-token parsing, decoding, and decode(encode(s)) == s for
// valid UTF-8 (all of the corpus; a literal U+2581 comes back as a space, as in transformers).
void check_goldens(const Tokenizer& tok, const json& g) {
    EXPECT_EQ(tok.vocab_size(), g["vocab_size"].get<size_t>());
    ASSERT_GT(g["cases"].size(), 50u);
    for (const json& c : g["cases"]) {
        const std::string name = c["name"];
        const std::string text = c["text"];
        const auto ids = tok.encode(text);
        EXPECT_EQ(ids, ids_of(c["ids"])) << name;
        EXPECT_EQ(tok.encode(text, false), ids_of(c["ids_no_special"])) << name;
        EXPECT_EQ(tok.decode(ids), c["decoded"].get<std::string>()) << name;
        if (text.find("\xE2\x96\x81") == std::string::npos) {
            EXPECT_EQ(tok.decode(ids), text) << name;
        }
    }
    for (const json& c : g["decode_cases"])
        EXPECT_EQ(tok.decode(ids_of(c["ids"])), c["text"].get<std::string>()) << c["name"].get<std::string>();
}

TEST(SentencePieceTokenizer, TinyModelMatchesTransformers) {
    EXPECT_EQ(spm().kind(), "tokenizer.model");
    check_goldens(spm(), load_json(tok_data("goldens_tiny_spm.json")));
}

// The .model and the .json hold the same vocabulary; transformers gives the same ids for both on the
// whole corpus (the goldens record it per case), so the two engine paths must agree too.
TEST(SentencePieceTokenizer, SameVocabularyAndIdsAsTokenizerJson) {
    ASSERT_EQ(spm().vocab_size(), bpe().vocab_size());
    for (int32_t i = 0; i < static_cast<int32_t>(bpe().vocab_size()); ++i) EXPECT_EQ(spm().piece(i), bpe().piece(i)) << i;
    const json g = load_json(tok_data("goldens_tiny_spm.json"));
    size_t same = 0;
    for (const json& c : g["cases"]) {
        if (!c.value("same_ids_as_tiny", false)) continue;
        ++same;
        const std::string text = c["text"];
        EXPECT_EQ(spm().encode(text), bpe().encode(text)) << c["name"].get<std::string>();
    }
    EXPECT_EQ(same, g["cases"].size());
    EXPECT_EQ(spm().bos_id(), 2);
    EXPECT_EQ(spm().eos_id(), 1);
    EXPECT_EQ(spm().token_id("<|turn>"), 5);
    EXPECT_EQ(spm().token_id("no such piece"), -1);
    EXPECT_THROW(spm().piece(-1), Error);
    EXPECT_THROW(spm().decode({static_cast<int32_t>(spm().vocab_size())}), Error);
}

// transformers cannot take invalid UTF-8; both paths make each stray byte its <0xNN> token.
TEST(SentencePieceTokenizer, InvalidUtf8AsTheBpePathDoes) {
    for (const std::string& s : std::vector<std::string>{"a\xFF" "b", "a\xE4\xB8", "\xC0\x80", "\xED\xA0\x80", "\x80" "a", "\xFF\xE4\xB8\xAD",
                                "\xFF<bos>\xFE", "x <|turn>\xF4\x90\x80\x80 y\n"}) {
        EXPECT_EQ(spm().encode(s), bpe().encode(s));
        EXPECT_EQ(spm().encode(s, false), bpe().encode(s, false));
        EXPECT_EQ(spm().decode(spm().encode(s)), bpe().decode(bpe().encode(s)));
    }
}

TEST(SentencePieceTokenizer, LongInputIsFast) {
    std::string text;
    while (text.size() < 400000) text += "The capital of France is Paris. Gemma runs offline; a=b+c*d.\n";
    const auto t0 = std::chrono::steady_clock::now();
    const auto ids = spm().encode(text);
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 20.0);
    EXPECT_EQ(ids, bpe().encode(text));
    EXPECT_EQ(spm().decode(ids), text);
}

// A model we cannot reproduce transformers' ids for is refused in plain words. Protobuf merges a
// repeated message field into the earlier one, so appending a field changes one setting.
TEST(SentencePieceTokenizer, RefusesWhatTransformersWouldTokenizeDifferently) {
    const std::string model = read_all(tok_data("tiny_tokenizer.model"));
    auto error_of = [&](const std::string& extra) -> std::string {
        try {
            SentencePieceTokenizer::from_serialized(model + extra, "m.model");
        } catch (const ModelError& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_NE(error_of(std::string("\x12\x02\x18\x01", 4)).find("not BPE"), std::string::npos);  // trainer_spec.model_type = UNIGRAM
    EXPECT_NE(error_of(std::string("\x1A\x02\x18\x01", 4)).find("normalizes"), std::string::npos);  // add_dummy_prefix
    EXPECT_NE(error_of(std::string("\x1A\x02\x20\x01", 4)).find("normalizes"), std::string::npos);  // remove_extra_whitespaces
    EXPECT_NE(error_of(std::string("\x1A\x02\x28\x00", 4)).find("normalizes"), std::string::npos);  // no space escaping
    EXPECT_THROW(SentencePieceTokenizer::from_serialized("not a model", "x.model"), FormatError);
    EXPECT_THROW(SentencePieceTokenizer::from_serialized(model.substr(0, model.size() / 2), "x.model"), FormatError);
    EXPECT_THROW(SentencePieceTokenizer::from_file("/nonexistent/tokenizer.model"), Error);
}

std::string make_model(const std::string& out, TestModelFormat fmt) {
    TestModelOptions o;
    o.variant = Variant::E2B;
    o.format = fmt;
    o.seed = 1;
    o.threads = 2;
    o.out = out;
    write_test_model(o);
    return o.out;
}

TEST(LoadTokenizer, PicksTheModelsTokenizerFile) {
    const std::string dir = test::scratch_dir("load_tokenizer");
    const json gold = load_json(tok_data("goldens_tiny.json"));
    auto check = [&](const Tokenizer& t, const std::string& kind) {
        EXPECT_EQ(t.kind(), kind);
        EXPECT_EQ(t.bos_id(), 2);
        EXPECT_EQ(t.eos_id(), 1);
        for (const json& c : gold["cases"]) EXPECT_EQ(t.encode(c["text"].get<std::string>()), ids_of(c["ids"])) << kind;
    };
    check(load_tokenizer(ModelFiles::open({make_model(dir + "/m.gguf", TestModelFormat::Gguf)}, false)), "GGUF");

    const std::string hf = make_model(dir + "/hf", TestModelFormat::Safetensors);
    // Both files: tokenizer.json is preferred (kind() says which was read).
    fs::copy_file(tok_data("tiny_tokenizer.model"), hf + "/tokenizer.model");
    check(load_tokenizer(ModelFiles::open({hf})), "tokenizer.json");
    fs::remove(hf + "/tokenizer.json");
    check(load_tokenizer(ModelFiles::open({hf})), "tokenizer.model");
    fs::remove(hf + "/tokenizer.model");
    try {
        load_tokenizer(ModelFiles::open({hf}));
        ADD_FAILURE() << "no tokenizer: expected a ModelError";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("no tokenizer.json or tokenizer.model"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace gd
