#include "support/test_support.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/error.h"
#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "testmodel/test_model.h"

namespace gd::test {

std::string data_dir() { return GD_TEST_DATA_DIR; }
std::string shared_fixtures_dir() { return GD_SHARED_FIXTURES_DIR; }
std::string cli_path() { return GD_CLI_PATH; }

std::string scratch_dir(const std::string& test_name) {
    const char* base = std::getenv("GD_TMP");
    std::filesystem::path root = base ? base : std::filesystem::temp_directory_path() / "gemmadesk-tests";
    auto dir = root / (test_name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir.string();
}

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw std::runtime_error("cannot write " + path);
}

int run_command(const std::string& command, std::string* output) {
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return -1;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        if (output) output->append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

const nlohmann::json& data_json(const std::string& relative_path) {
    static std::mutex mu;
    static std::map<std::string, nlohmann::json> parsed;  // node-based: references stay valid
    std::lock_guard<std::mutex> lock(mu);
    auto it = parsed.find(relative_path);
    if (it == parsed.end()) {
        std::ifstream f(data_dir() + "/" + relative_path);
        if (!f) throw std::runtime_error("cannot read " + data_dir() + "/" + relative_path);
        it = parsed.emplace(relative_path, nlohmann::json::parse(f)).first;
    }
    return it->second;
}

std::map<std::string, std::vector<float>> data_tensors(const std::string& relative_path) {
    const SafetensorsFile st = SafetensorsFile::open(data_dir() + "/" + relative_path);
    std::map<std::string, std::vector<float>> out;
    for (const TensorView& v : st.tensors()) {
        std::vector<float> x(v.elements());
        dequantize_row(v.type, v.data, x.data(), v.elements());
        out[v.name] = std::move(x);
    }
    return out;
}

std::string tiny_model(Variant variant, bool gguf, uint64_t seed, DType type) {
    static std::mutex mu;
    static std::map<std::string, std::string> made;
    const std::string key = std::string(variant_name(variant)) + (gguf ? "-gguf-" : "-st-") + dtype_name(type) + "-seed" +
                            std::to_string(seed);
    std::lock_guard<std::mutex> lock(mu);
    if (auto it = made.find(key); it != made.end()) return it->second;
    const std::string dir = scratch_dir("tiny-" + key);
    TestModelOptions o;
    o.variant = variant;
    o.size = ModelSize::Tiny;
    o.format = gguf ? TestModelFormat::Gguf : TestModelFormat::Safetensors;
    o.dtype = type;
    o.seed = seed;
    o.threads = 2;
    o.out = gguf ? dir + "/model.gguf" : dir;
    write_test_model(o);
    return made[key] = o.out;
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    double diff = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
        scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return scale > 0 ? diff / scale : diff;
}

std::string rewritten_model(const std::string& src, const std::string& name, const TensorEdit& edit) {
    namespace fs = std::filesystem;
    const std::string dst = scratch_dir(name);
    for (const auto& e : fs::directory_iterator(src))
        if (e.path().filename() != "model.safetensors") fs::copy_file(e.path(), fs::path(dst) / e.path().filename());
    const SafetensorsFile st = SafetensorsFile::open(src + "/model.safetensors");
    std::vector<SafetensorsWriteTensor> out;
    for (const TensorView& v : st.tensors()) {
        std::vector<uint8_t> probe(v.data, v.data + v.nbytes);
        if (!edit(v.name, v.type, probe.data(), v.nbytes)) continue;
        auto bytes = std::make_shared<std::vector<uint8_t>>(std::move(probe));
        out.push_back(
            {v.name, v.type, v.shape, [bytes](uint8_t* d, uint64_t n) { std::memcpy(d, bytes->data(), n); }, nullptr});
    }
    write_safetensors(dst + "/model.safetensors", out, st.header_metadata());
    return dst;
}

std::string model_without_tensor(const std::string& hf_name, const std::string& scratch_name) {
    return rewritten_model(tiny_model(Variant::E2B, false), scratch_name,
                           [&](const std::string& name, DType, uint8_t*, uint64_t) { return name != hf_name; });
}

std::string model_with_nan(const std::string& hf_name, size_t index, const std::string& scratch_name) {
    return rewritten_model(tiny_model(Variant::E2B, false), scratch_name,
                           [&](const std::string& name, DType type, uint8_t* b, uint64_t n) {
                               if (name == hf_name) {
                                   EXPECT_EQ(type, DType::F32);
                                   EXPECT_LT(4 * index, n);
                                   const float nan = NAN;
                                   std::memcpy(b + 4 * index, &nan, 4);
                               }
                               return true;
                           });
}

void expect_model_error(const std::string& path, const std::function<void(const ModelFiles&)>& place,
                        const std::string& text, bool find_mmproj) {
    try {
        const ModelFiles files = ModelFiles::open({path}, find_mmproj);
        place(files);
        ADD_FAILURE() << "expected a ModelError mentioning " << text;
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
}

}  // namespace gd::test
