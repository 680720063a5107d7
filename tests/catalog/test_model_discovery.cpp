// Discovery on fake stores in a temporary home: the Hugging Face cache (blobs, snapshot symlinks,
// refs/main), Ollama (manifests and sha256 blobs), LM Studio, and user folders holding broken and
// foreign files, symlink loops and duplicates. Every model found must open with ModelFiles.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "catalog/catalog_support.h"
#include "catalog/model_discovery.h"
#include "catalog/model_locations.h"
#include "catalog/store_scan.h"
#include "model/model_files.h"
#include "support/test_support.h"

namespace gd {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t GiB = 1ull << 30;

MachineMemory big_machine() {
    MachineMemory m;
    m.ram_total = 64 * GiB;
    m.ram_available = 60 * GiB;
    return m;
}

// Options that look only where the test says: the fake home, no process environment, no system store.
DiscoveryOptions options_for(const std::string& home) {
    DiscoveryOptions o;
    o.home = home;
    o.use_process_env = false;
    o.system_ollama_stores.clear();
    o.machine = big_machine();
    return o;
}

void write_text(const fs::path& p, const std::string& s) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << s;
}

const DiscoveredModel* by_name(const std::vector<DiscoveredModel>& ms, const std::string& name) {
    for (const auto& m : ms)
        if (m.name == name) return &m;
    return nullptr;
}

// The load paths open as the app will open them, and describe the same model.
void expect_loadable(const DiscoveredModel& m) {
    SCOPED_TRACE(m.name);
    ASSERT_TRUE(m.error.empty()) << m.error;
    const ModelFiles f = ModelFiles::open(m.load_paths);
    EXPECT_EQ(variant_name(f.config().variant), m.variant);
    EXPECT_EQ(f.config().vision.has_value(), m.has_vision);
    EXPECT_EQ(f.config().audio.has_value(), m.has_audio);
    EXPECT_TRUE(m.has_text);
    EXPECT_EQ(m.max_context, f.config().text.max_position_embeddings);
    EXPECT_EQ(m.fit.verdict, FitEstimate::Verdict::Fits);
    EXPECT_EQ(m.fit.device, "CPU");
    EXPECT_GT(m.memory_bytes, kRuntimeOverheadBytes);
}

TEST(Discovery, HuggingFaceCacheFollowsRefsMainAndSymlinks) {
    const std::string home = test::scratch_dir("disc_hf");
    const std::string hub = home + "/.cache/huggingface/hub";
    const std::string staging = home + "/staging";
    const auto files = test::write_tiny_model(Variant::E2B, TestModelFormat::Safetensors, DType::BF16, staging + "/e2b");
    // An older revision holding only a config, then the current one; refs/main names the current one.
    test::add_to_hf_cache(hub, "models--google--gemma-4-E2B-it", "0ld", {staging + "/e2b/config.json"}, false);
    const std::string snap = test::add_to_hf_cache(hub, "models--google--gemma-4-E2B-it", "c0ffee", files, true);
    // A GGUF repository without refs: the newest snapshot; one model at the top, one in a subfolder,
    // the projector at the top serving both.
    const auto gguf = test::write_tiny_model(Variant::E4B, TestModelFormat::Gguf, DType::Q8_0, staging + "/e4b/gemma-4-E4B-it-Q8_0.gguf");
    const std::string gsnap = test::add_to_hf_cache(hub, "models--unsloth--gemma-4-E4B-it-GGUF", "abc123", gguf, false);
    fs::rename(gsnap + "/mmproj-gemma-4-E4B-it-Q8_0.gguf", gsnap + "/mmproj-F16.gguf");
    const auto q4 = test::write_tiny_model(Variant::E4B, TestModelFormat::Gguf, DType::Q4_0, staging + "/q4/gemma-4-E4B-it-Q4_0.gguf");
    const std::string repo = hub + "/models--unsloth--gemma-4-E4B-it-GGUF";
    fs::copy_file(q4[0], repo + "/blobs/q4");
    fs::create_directories(gsnap + "/Q4_0");
    fs::create_symlink(fs::path("..") / ".." / ".." / "blobs" / "q4", gsnap + "/Q4_0/gemma-4-E4B-it-Q4_0.gguf");
    // The same blob under a second name is the same model, listed once.
    fs::create_symlink(fs::path("..") / "gemma-4-E4B-it-Q8_0.gguf", gsnap + "/Q4_0/alias-Q8_0.gguf");
    // Datasets and spaces share the cache and are not models.
    fs::create_directories(hub + "/datasets--someone--data/snapshots/x");

    const auto found = discover_models(options_for(home));
    ASSERT_EQ(found.size(), 3u);

    const DiscoveredModel* hf = by_name(found, "google/gemma-4-E2B-it");
    ASSERT_NE(hf, nullptr);
    EXPECT_EQ(hf->source, "huggingface");
    EXPECT_EQ(hf->load_paths, std::vector<std::string>{snap});
    EXPECT_EQ(hf->format, "safetensors");
    EXPECT_EQ(hf->variant, "e2b");
    EXPECT_TRUE(hf->tiny_test_model);
    EXPECT_EQ(hf->quantization, "bf16");
    EXPECT_TRUE(hf->has_vision);
    EXPECT_TRUE(hf->has_audio);
    // Sizes are the blobs', not the symlinks'.
    EXPECT_EQ(hf->disk_bytes, test::total_size(files));
    expect_loadable(*hf);

    const DiscoveredModel* top = by_name(found, "gemma-4-E4B-it (Q8_0)");
    ASSERT_NE(top, nullptr);
    EXPECT_EQ(top->source, "huggingface");
    EXPECT_EQ(top->format, "GGUF");
    EXPECT_EQ(top->variant, "e4b");
    EXPECT_EQ(top->quantization, "q8_0");
    ASSERT_EQ(top->load_paths.size(), 2u);
    EXPECT_EQ(top->load_paths[1], gsnap + "/mmproj-F16.gguf");
    EXPECT_EQ(top->disk_bytes, test::total_size(gguf));
    expect_loadable(*top);
    // The subfolder's model gets the projector from the top of the snapshot.
    const DiscoveredModel* sub = by_name(found, "gemma-4-E4B-it (Q4_0)");
    ASSERT_NE(sub, nullptr);
    ASSERT_EQ(sub->load_paths.size(), 2u);
    EXPECT_EQ(sub->load_paths[0], gsnap + "/Q4_0/gemma-4-E4B-it-Q4_0.gguf");
    EXPECT_EQ(sub->load_paths[1], gsnap + "/mmproj-F16.gguf");
    expect_loadable(*sub);
    EXPECT_TRUE(sub->has_vision);
}

TEST(Discovery, OllamaManifestsAndBlobs) {
    const std::string home = test::scratch_dir("disc_ollama");
    const std::string store = home + "/.ollama/models";
    const std::string staging = home + "/staging";
    const auto e2b = test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::Q4_K, staging + "/e2b/m.gguf");
    const auto a26 = test::write_tiny_model(Variant::A26B, TestModelFormat::Gguf, DType::F16, staging + "/26b/m.gguf");
    const auto blobs = test::add_to_ollama(store, "registry.ollama.ai", "library", "gemma4", "e2b", e2b[0], e2b[1]);
    test::add_to_ollama(store, "registry.ollama.ai", "library", "gemma4", "26b", a26[0], a26[1]);
    // "latest" is the same blobs as "e2b": one model, under the first name.
    test::add_to_ollama(store, "registry.ollama.ai", "library", "gemma4", "latest", e2b[0], e2b[1]);
    const auto other = test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::Q8_0, staging + "/other/m.gguf");
    test::add_to_ollama(store, "hf.co", "unsloth", "gemma-4-E2B-it-GGUF", "Q4_K_M", other[0], "");
    test::write_foreign_gguf(staging + "/llama.gguf", "llama");
    test::add_to_ollama(store, "registry.ollama.ai", "library", "llama3", "latest", staging + "/llama.gguf", "");
    const std::string manifests = store + "/manifests/registry.ollama.ai/library";
    write_text(manifests + "/broken/latest", "{\"layers\": [ not json");
    write_text(manifests + "/missing/latest",
               R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:)" + std::string(64, '9') + R"("}]})");
    write_text(manifests + "/escape/latest",
               R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:../../../../etc/passwd"}]})");
    write_text(manifests + "/tensors/latest",
               R"({"layers":[{"mediaType":"application/vnd.ollama.image.tensor; name=x; dtype=BF16; shape=1","digest":"sha256:)" +
                   std::string(64, '8') + R"("}]})");
    write_text(manifests + "/nolayers/latest", R"({"layers": 7})");
    write_text(manifests + "/array/latest", "[1,2,3]");
    write_text(manifests + "/empty/latest", "");
    write_text(store + "/manifests/stray-file", "not a folder level");

    const auto found = discover_models(options_for(home));
    std::set<std::string> names;
    for (const auto& m : found) names.insert(m.name);
    EXPECT_EQ(names, (std::set<std::string>{"gemma4:e2b", "gemma4:26b", "hf.co/unsloth/gemma-4-E2B-it-GGUF:Q4_K_M",
                                            "llama3:latest", "broken:latest", "missing:latest", "escape:latest",
                                            "tensors:latest", "nolayers:latest", "array:latest", "empty:latest"}));
    EXPECT_EQ(names.size(), found.size());

    const DiscoveredModel* g = by_name(found, "gemma4:e2b");
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->source, "ollama");
    EXPECT_EQ(g->load_paths, blobs);  // the extension-less blob, then its projector, given explicitly
    EXPECT_EQ(g->variant, "e2b");
    EXPECT_TRUE(g->has_vision);
    EXPECT_TRUE(g->has_audio);
    EXPECT_EQ(g->disk_bytes, test::total_size(e2b));
    expect_loadable(*g);
    const DiscoveredModel* big = by_name(found, "gemma4:26b");
    ASSERT_NE(big, nullptr);
    EXPECT_EQ(big->variant, "26b-a4b");
    EXPECT_EQ(big->quantization, "f16");
    EXPECT_TRUE(big->has_vision);
    EXPECT_FALSE(big->has_audio);  // the 26B has no audio tower
    EXPECT_EQ(big->host_resident_bytes, 0u);  // and no PLE table
    expect_loadable(*big);
    // No projector layer: text only.
    const DiscoveredModel* hf = by_name(found, "hf.co/unsloth/gemma-4-E2B-it-GGUF:Q4_K_M");
    ASSERT_NE(hf, nullptr);
    EXPECT_EQ(hf->load_paths.size(), 1u);
    EXPECT_FALSE(hf->has_vision);
    expect_loadable(*hf);

    EXPECT_EQ(by_name(found, "llama3:latest")->error, "not a Gemma 4 model (architecture llama)");
    EXPECT_NE(by_name(found, "broken:latest")->error.find("its Ollama manifest cannot be read"), std::string::npos);
    EXPECT_NE(by_name(found, "missing:latest")->error.find("a file is missing from Ollama's store"), std::string::npos);
    EXPECT_NE(by_name(found, "escape:latest")->error.find("malformed digest"), std::string::npos);
    EXPECT_TRUE(by_name(found, "escape:latest")->load_paths.empty());
    EXPECT_NE(by_name(found, "tensors:latest")->error.find("tensor-layer format"), std::string::npos);
    EXPECT_NE(by_name(found, "nolayers:latest")->error.find("no layers"), std::string::npos);
    EXPECT_FALSE(by_name(found, "array:latest")->error.empty());
    EXPECT_FALSE(by_name(found, "empty:latest")->error.empty());
}

TEST(Discovery, LmStudioFoldersWithProjectors) {
    const std::string home = test::scratch_dir("disc_lms");
    const std::string repo = home + "/.lmstudio/models/lmstudio-community/gemma-4-E2B-it-GGUF";
    const auto files = test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::Q4_0, repo + "/gemma-4-E2B-it-Q4_0.gguf");
    // A moved models folder (LM Studio's settings) and the legacy location.
    const std::string moved = home + "/elsewhere/models";
    test::write_tiny_model(Variant::B31, TestModelFormat::Gguf, DType::Q6_K, moved + "/google/gemma-4-31B-it-GGUF/gemma-4-31B-it-Q6_K.gguf");
    write_text(home + "/.lmstudio/settings.json", R"({"downloadsFolder": ")" + moved + R"("})");
    test::write_tiny_model(Variant::E4B, TestModelFormat::Gguf, DType::IQ4_NL, home + "/.cache/lm-studio/models/a/b/gemma-4-E4B-it-IQ4_NL.gguf");

    const auto found = discover_models(options_for(home));
    ASSERT_EQ(found.size(), 3u);
    const DiscoveredModel* e2b = by_name(found, "gemma-4-E2B-it (Q4_0)");
    ASSERT_NE(e2b, nullptr);
    EXPECT_EQ(e2b->source, "lmstudio");
    EXPECT_EQ(e2b->load_paths, files);  // the model and its mmproj, which is not a model of its own
    EXPECT_EQ(e2b->quantization, "q4_0");
    expect_loadable(*e2b);
    const DiscoveredModel* b31 = by_name(found, "gemma-4-31B-it (Q6_K)");
    ASSERT_NE(b31, nullptr);
    EXPECT_EQ(b31->variant, "31b");
    expect_loadable(*b31);
    ASSERT_NE(by_name(found, "gemma-4-E4B-it (IQ4_NL)"), nullptr);
    expect_loadable(*by_name(found, "gemma-4-E4B-it (IQ4_NL)"));
}

TEST(Discovery, UserFoldersReportBrokenAndForeignFilesInPlainWords) {
    const std::string root = test::scratch_dir("disc_folder");
    const std::string dir = root + "/mine";
    const auto good = test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, dir + "/good/tiny.gguf");
    const auto hf = test::write_tiny_model(Variant::E4B, TestModelFormat::Safetensors, DType::F16, dir + "/hf-e4b");
    // A truncated copy, a text file named .gguf, a llama GGUF, a non-Gemma HF folder.
    const auto bytes = test::read_file(good[0]);
    fs::create_directories(dir + "/broken");
    test::write_file(dir + "/broken/truncated.gguf", std::vector<uint8_t>(bytes.begin(), bytes.begin() + 4096));
    write_text(dir + "/broken/notes.gguf", "this is not a model\n");
    test::write_foreign_gguf(dir + "/other/llama-3-8b-Q4_K_M.gguf", "llama");
    write_text(dir + "/other/bert/config.json", R"({"model_type": "bert"})");
    write_text(dir + "/other/bert/model.safetensors", "garbage");
    // A projector with a neutral name is not a model; mmproj files and later split parts are skipped by name.
    fs::copy_file(good[1], dir + "/good/projector.gguf");
    fs::copy_file(good[0], dir + "/good/big-00002-of-00003.gguf");
    // Symlink loops, a dangling link and an unreadable folder.
    fs::create_directory_symlink(dir, dir + "/good/loop");
    fs::create_symlink(dir + "/self", dir + "/self");
    fs::create_symlink(dir + "/nowhere.gguf", dir + "/dangling.gguf");
    fs::create_directories(dir + "/locked/inside");
    fs::permissions(dir + "/locked", fs::perms::none);
    // Too deep: 4 levels are scanned below a folder.
    test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, dir + "/a/b/c/d/e/deep.gguf");

    DiscoveryOptions o = options_for(root + "/no-home");
    o.extra_folders = {dir};
    const auto found = discover_models(o);
    fs::permissions(dir + "/locked", fs::perms::owner_all);

    std::set<std::string> names;
    for (const auto& m : found) names.insert(m.name);
    EXPECT_EQ(names, (std::set<std::string>{"tiny", "hf-e4b", "truncated", "notes", "llama-3-8b (Q4_K_M)", "bert"}));
    EXPECT_EQ(found.size(), names.size()) << "the loop must not list a model twice";
    for (const auto& m : found) EXPECT_EQ(m.source, "folder");

    expect_loadable(*by_name(found, "tiny"));
    EXPECT_EQ(by_name(found, "tiny")->load_paths, good);
    const DiscoveredModel* e4b = by_name(found, "hf-e4b");
    expect_loadable(*e4b);
    EXPECT_EQ(e4b->format, "safetensors");
    EXPECT_EQ(e4b->quantization, "f16");
    EXPECT_EQ(e4b->disk_bytes, test::total_size(hf));

    const DiscoveredModel* t = by_name(found, "truncated");
    EXPECT_EQ(t->error.rfind("the file is damaged or incomplete: ", 0), 0u) << t->error;
    EXPECT_EQ(t->disk_bytes, 4096u);
    EXPECT_TRUE(t->variant.empty());
    EXPECT_EQ(by_name(found, "notes")->error,
              "not a GGUF file: it does not start with the GGUF signature (damaged or incomplete download?)");
    EXPECT_EQ(by_name(found, "llama-3-8b (Q4_K_M)")->error, "not a Gemma 4 model (architecture llama)");
    EXPECT_EQ(by_name(found, "bert")->error, "not a Gemma 4 model (model_type bert)");
}

TEST(Discovery, TheSameModelReachedTwiceIsListedOnce) {
    const std::string home = test::scratch_dir("disc_dedup");
    const std::string lms = home + "/.lmstudio/models/p/r";
    test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, lms + "/gemma-4-E2B-it-F32.gguf");
    // The user adds LM Studio's folder, its parent, and a folder with a symlink to the same file.
    fs::create_directories(home + "/links");
    fs::create_symlink(lms + "/gemma-4-E2B-it-F32.gguf", home + "/links/alias.gguf");
    DiscoveryOptions o = options_for(home);
    o.extra_folders = {lms, home + "/.lmstudio", home + "/links", lms + "/gemma-4-E2B-it-F32.gguf"};
    const auto found = discover_models(o);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].source, "lmstudio");  // the standard place comes first
}

TEST(Discovery, NothingThereIsAnEmptyList) {
    const std::string home = test::scratch_dir("disc_empty");
    EXPECT_TRUE(discover_models(options_for(home)).empty());
    DiscoveryOptions o = options_for("");
    o.extra_folders = {"", "/nonexistent/folder", home + "/missing.gguf"};
    EXPECT_TRUE(discover_models(o).empty());
    // standard_locations off: the home's stores are not looked at.
    test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, home + "/.lmstudio/models/p/r/m.gguf");
    DiscoveryOptions off = options_for(home);
    off.standard_locations = false;
    EXPECT_TRUE(discover_models(off).empty());
    EXPECT_EQ(discover_models(options_for(home)).size(), 1u);
}

TEST(Discovery, EntryBudgetBoundsTheWalk) {
    const std::string dir = test::scratch_dir("disc_budget");
    const auto files = test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, dir + "/staging/m.gguf");
    for (int i = 0; i < 30; ++i) {
        fs::create_directories(dir + "/all/d" + std::to_string(i));
        fs::copy_file(files[0], dir + "/all/d" + std::to_string(i) + "/m.gguf");
    }
    DiscoveryOptions o = options_for("");
    o.extra_folders = {dir + "/all"};
    EXPECT_EQ(discover_models(o).size(), 30u);
    o.max_entries = 20;  // 30 folders and 30 files: the walk stops early, whatever the order
    EXPECT_LT(discover_models(o).size(), 30u);
}

TEST(Discovery, EnvironmentPicksTheStores) {
    DiscoveryOptions o;
    o.use_process_env = false;
    o.home = "/home/u";
    EXPECT_EQ(hf_hub_cache_dir(o), "/home/u/.cache/huggingface/hub");
    o.env["XDG_CACHE_HOME"] = "/xdg";
    EXPECT_EQ(hf_hub_cache_dir(o), "/xdg/huggingface/hub");
    o.env["HF_HOME"] = "/hf";
    EXPECT_EQ(hf_hub_cache_dir(o), "/hf/hub");
    o.env["HF_HUB_CACHE"] = "/cache";
    EXPECT_EQ(hf_hub_cache_dir(o), "/cache");
    EXPECT_EQ(ollama_store_dirs(o), (std::vector<std::string>{"/home/u/.ollama/models", "/usr/share/ollama/.ollama/models"}));
    o.env["OLLAMA_MODELS"] = "/models";
    o.system_ollama_stores.clear();
    EXPECT_EQ(ollama_store_dirs(o), std::vector<std::string>{"/models"});
    EXPECT_EQ(lmstudio_model_dirs(o), (std::vector<std::string>{"/home/u/.lmstudio/models", "/home/u/.cache/lm-studio/models"}));
    // The environment variables themselves, through the options.
    const std::string home = test::scratch_dir("disc_env");
    test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, home + "/staging/m.gguf");
    test::add_to_ollama(home + "/store", "registry.ollama.ai", "library", "gemma4", "tiny", home + "/staging/m.gguf", "");
    DiscoveryOptions e = options_for(home + "/nohome");
    e.env["OLLAMA_MODELS"] = home + "/store";
    const auto found = discover_models(e);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].name, "gemma4:tiny");
}

TEST(Discovery, DisplayNames) {
    EXPECT_EQ(gguf_display_name("gemma-4-E4B-it-Q4_K_M.gguf"), "gemma-4-E4B-it (Q4_K_M)");
    EXPECT_EQ(gguf_display_name("gemma-4-E4B-it-UD-Q4_K_XL.gguf"), "gemma-4-E4B-it (UD-Q4_K_XL)");
    EXPECT_EQ(gguf_display_name("google_gemma-4-26B-A4B-it-IQ4_XS.gguf"), "google_gemma-4-26B-A4B-it (IQ4_XS)");
    EXPECT_EQ(gguf_display_name("gemma-4-31b-it-bf16-00001-of-00003.gguf"), "gemma-4-31b-it (BF16)");
    EXPECT_EQ(gguf_display_name("gemma-4-e2b.q8_0.gguf"), "gemma-4-e2b (Q8_0)");
    EXPECT_EQ(gguf_display_name("model.gguf"), "model");
    EXPECT_EQ(gguf_display_name("Q4_K_M.gguf"), "Q4_K_M");
    EXPECT_TRUE(is_mmproj_name("mmproj-F16.gguf"));
    EXPECT_TRUE(is_mmproj_name("gemma-4-E4B-it-MMPROJ.gguf"));
    EXPECT_FALSE(is_mmproj_name("gemma-4-E4B-it-Q4_0.gguf"));
    EXPECT_TRUE(is_later_split_part("m-00002-of-00003.gguf"));
    EXPECT_FALSE(is_later_split_part("m-00001-of-00003.gguf"));
    EXPECT_FALSE(is_later_split_part("m.gguf"));
}

TEST(Discovery, DescribeOneModelNeverThrows) {
    const std::string dir = test::scratch_dir("disc_describe");
    const auto files = test::write_tiny_model(Variant::E2B, TestModelFormat::Gguf, DType::F32, dir + "/m.gguf");
    const DiscoveredModel mm = describe_model({files[1]}, "p", "folder", big_machine());
    EXPECT_EQ(mm.error, "a vision/audio projector (mmproj) file, not a model: give the text model file");
    const DiscoveredModel none = describe_model({}, "x", "folder", big_machine());
    EXPECT_FALSE(none.error.empty());
    const DiscoveredModel missing = describe_model({dir + "/gone.gguf"}, "gone", "folder", big_machine());
    EXPECT_NE(missing.error.find("does not exist"), std::string::npos) << missing.error;
    const DiscoveredModel ok = describe_model({files[0]}, "m", "folder", big_machine());
    EXPECT_EQ(ok.load_paths, files);
    expect_loadable(ok);
}

}  // namespace
}  // namespace gd
