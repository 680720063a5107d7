#include "catalog/catalog_support.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>

#include <nlohmann/json.hpp>

#include "format/gguf_writer.h"
#include "support/test_support.h"

namespace gd::test {

namespace fs = std::filesystem;

std::vector<std::string> write_tiny_model(Variant v, TestModelFormat format, DType dtype, const std::string& out) {
    TestModelOptions o;
    o.variant = v;
    o.size = ModelSize::Tiny;
    o.format = format;
    o.dtype = dtype;
    o.seed = 7;
    o.threads = 1;
    o.out = out;
    fs::create_directories(format == TestModelFormat::Gguf ? fs::path(out).parent_path() : fs::path(out));
    return write_test_model(o).files;
}

void copy_gguf_with(const std::string& src, const std::string& dst,
                    const std::vector<std::pair<std::string, GgufValue>>& keys) {
    const GgufFile f = GgufFile::open(src);
    GgufWriter w(f.alignment());
    for (const auto& [k, v] : f.metadata()) w.set(k, v);
    for (const auto& [k, v] : keys) w.set(k, v);
    for (const GgufTensorInfo& t : f.tensor_infos()) {
        const TensorView view = f.view(t);
        w.add_tensor_bytes(t.name, view.shape, view.type, std::vector<uint8_t>(view.data, view.data + view.nbytes));
    }
    w.write(dst);
}

void write_foreign_gguf(const std::string& path, const std::string& architecture) {
    GgufWriter w;
    w.set_string("general.architecture", architecture);
    w.set_string("general.name", "not gemma");
    w.set_u32(architecture + ".block_count", 1);
    w.add_tensor_bytes("token_embd.weight", {2, 4}, DType::F32, std::vector<uint8_t>(2 * 4 * sizeof(float), 0));
    fs::create_directories(fs::path(path).parent_path());
    w.write(path);
}

std::string add_to_hf_cache(const std::string& hub, const std::string& repo_folder, const std::string& rev,
                            const std::vector<std::string>& files, bool set_main) {
    const fs::path repo = fs::path(hub) / repo_folder;
    const fs::path snap = repo / "snapshots" / rev;
    fs::create_directories(repo / "blobs");
    fs::create_directories(snap);
    for (const std::string& f : files) {
        // The blob is named by its content hash; a name unique per file and revision does as well here.
        const std::string blob = rev + "-" + fs::path(f).filename().string() + ".blob";
        fs::copy_file(f, repo / "blobs" / blob, fs::copy_options::overwrite_existing);
        fs::create_symlink(fs::path("..") / ".." / "blobs" / blob, snap / fs::path(f).filename());
    }
    if (set_main) {
        fs::create_directories(repo / "refs");
        std::ofstream(repo / "refs" / "main") << rev;  // huggingface_hub writes it without a newline
    }
    return snap.string();
}

std::vector<std::string> add_to_ollama(const std::string& models_dir, const std::string& registry, const std::string& ns,
                                       const std::string& model, const std::string& tag, const std::string& gguf,
                                       const std::string& mmproj) {
    const fs::path root(models_dir);
    fs::create_directories(root / "blobs");
    const fs::path manifest_dir = root / "manifests" / registry / ns / model;
    fs::create_directories(manifest_dir);
    nlohmann::json layers = nlohmann::json::array();
    std::vector<std::string> blobs;
    // Blobs are content-addressed as in Ollama (the same file under two tags is one blob); the digest
    // only needs to be well formed, so a 64-bit hash of the content repeated to 64 hex digits does.
    auto add = [&](const std::string& file, const char* media_type) {
        const auto bytes = read_file(file);
        char h[17];
        std::snprintf(h, sizeof h, "%016llx",
                      static_cast<unsigned long long>(std::hash<std::string_view>{}(
                          std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()))));
        const std::string hex = std::string(h) + h + h + h;
        const fs::path blob = root / "blobs" / ("sha256-" + hex);
        fs::copy_file(file, blob, fs::copy_options::overwrite_existing);
        layers.push_back({{"mediaType", media_type}, {"digest", "sha256:" + hex}, {"size", fs::file_size(blob)}});
        blobs.push_back(blob.string());
    };
    add(gguf, "application/vnd.ollama.image.model");
    if (!mmproj.empty()) add(mmproj, "application/vnd.ollama.image.projector");
    layers.push_back({{"mediaType", "application/vnd.ollama.image.template"},
                      {"digest", "sha256:" + std::string(64, 'd')},
                      {"size", 10}});
    const nlohmann::json manifest = {{"schemaVersion", 2},
                                     {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                                     {"config", {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                                                 {"digest", "sha256:" + std::string(64, 'c')},
                                                 {"size", 10}}},
                                     {"layers", layers}};
    std::ofstream(manifest_dir / tag) << manifest.dump();
    return blobs;
}

uint64_t total_size(const std::vector<std::string>& files) {
    uint64_t n = 0;
    for (const auto& f : files) n += fs::file_size(f);
    return n;
}

}  // namespace gd::test
