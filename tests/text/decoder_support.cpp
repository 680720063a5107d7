#include "text/decoder_support.h"

#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "format/quant/quant.h"
#include "format/safetensors.h"
#include "support/test_support.h"
#include "testmodel/test_model.h"
#include "text/text_weights.h"

namespace gd::test {

std::string tiny_model_path(Variant variant, bool gguf, DType type) { return tiny_model(variant, gguf, 1, type); }

std::unique_ptr<LoadedDecoder> load_decoder(const std::string& path, int threads) {
    return load_decoder_on(path, make_cpu_backend(threads));
}

std::unique_ptr<LoadedDecoder> load_split_decoder(const std::string& path, std::unique_ptr<Backend> first,
                                                  int64_t first_layers, int threads) {
    auto l = std::make_unique<LoadedDecoder>(LoadedDecoder{ModelFiles::open({path}), std::move(first), nullptr, nullptr});
    l->rest = make_cpu_backend(threads);
    TextWeights w = load_text_weights(l->files, *l->backend, *l->rest, first_layers);
    l->decoder = std::make_unique<TextDecoder>(l->files.config(), std::move(w), *l->backend, *l->rest, first_layers);
    return l;
}

std::unique_ptr<LoadedDecoder> load_decoder_on(const std::string& path, std::unique_ptr<Backend> backend) {
    auto l = std::make_unique<LoadedDecoder>(LoadedDecoder{ModelFiles::open({path}), std::move(backend), nullptr, nullptr});
    TextWeights w = load_text_weights(l->files, *l->backend);
    l->decoder = std::make_unique<TextDecoder>(l->files.config(), std::move(w), *l->backend);
    return l;
}

const nlohmann::json& reference_cases() { return data_json("reference/decoder_cases.json"); }

std::map<std::string, std::vector<float>> reference_tensors(const std::string& file) {
    return data_tensors("reference/" + file);
}

Variant variant_of_case(const nlohmann::json& c) { return *variant_from_name(c.at("variant").get<std::string>()); }

int expect_matches_reference(const nlohmann::json& c, const std::map<std::string, std::vector<float>>& got,
                             const std::string& label) {
    constexpr double kErrorFactor = 3.0, kErrorFloor = 1e-6;
    int compared = 0;
    for (const auto& [name, want] : reference_tensors(c.at("file").get<std::string>())) {
        auto it = got.find(name);
        EXPECT_NE(it, got.end()) << label << ": the decoder did not produce " << name;
        if (it == got.end()) continue;
        const double err = relative_error(it->second, want);
        const double ref_error = c.at("f32_error").at(name).get<double>();
        const double tol = std::max(kErrorFactor * ref_error, kErrorFloor);
        if (std::getenv("GD_PRINT_ERRORS")) std::printf("%-20s error %.3g reference's own %.3g\n", name.c_str(), err, ref_error);
        EXPECT_LE(err, tol) << c.at("file").get<std::string>() << " " << label << " " << name;
        ++compared;
    }
    return compared;
}

std::string reference_case_name(const ::testing::TestParamInfo<int>& p) {
    const nlohmann::json& c = reference_cases().at("cases").at(p.param);
    std::string n = c.at("variant").get<std::string>() + "_" + c.at("prompt").get<std::string>();
    for (char& ch : n)
        if (ch == '-') ch = '_';
    return n;
}

std::map<std::string, std::vector<float>> run_all(TextDecoder& d, const std::vector<int32_t>& ids, int64_t context,
                                                   int64_t max_chunk) {
    std::map<std::string, std::vector<float>> got;
    KvCache cache = d.make_cache(context, max_chunk);
    d.forward(ids, cache, true, [&](int64_t, const float*, int64_t) {},
              [&](const std::string& name, const Tensor& t) {
                  // A split model's tensors live on the backend of their layer.
                  Backend& b = t.device == d.backend().kind() ? d.backend() : d.layer_backend(d.config().num_layers - 1);
                  std::vector<float> host(static_cast<size_t>(t.elements()));
                  b.download(t, host.data());
                  auto& dst = got[name];
                  dst.insert(dst.end(), host.begin(), host.end());  // chunks append in order
              });
    return got;
}

}  // namespace gd::test
