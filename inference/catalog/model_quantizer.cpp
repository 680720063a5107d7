#include "catalog/model_quantizer.h"

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>

#include "common/error.h"
#include "common/parallel_writer.h"
#include "format/gguf_writer.h"
#include "format/quant/quant.h"
#include "format/storage_type.h"
#include "model/model_files.h"

namespace gd {

namespace fs = std::filesystem;

bool can_quantize_to(DType t) { return can_quantize(t) && dtype_info(t).ggml_id >= 0; }

uint32_t gguf_file_type(DType t) {
    switch (t) {
        case DType::F32: return 0;
        case DType::F16: return 1;
        case DType::Q4_0: return 2;
        case DType::Q4_1: return 3;
        case DType::Q8_0: return 7;
        case DType::Q5_0: return 8;
        case DType::Q5_1: return 9;
        case DType::Q2_K: return 10;
        case DType::Q3_K: return 11;
        case DType::Q4_K: return 14;
        case DType::Q5_K: return 16;
        case DType::Q6_K: return 18;
        case DType::IQ4_NL: return 25;
        case DType::IQ4_XS: return 30;
        case DType::BF16: return 32;
        default: return 0;
    }
}

namespace {

bool is_plain_float(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

// The type a tensor is written in: the planner's rule, but never re-encoding what is already
// block-quantized and never making a tensor larger (bf16 -> f16 could also overflow).
DType target_type(const TensorView& v, DType wanted) {
    if (!is_plain_float(v.type)) return v.type;
    const DType t = gguf_storage_type(v.name, v.shape.empty() ? std::vector<uint64_t>{1} : v.shape, wanted);
    if (t == v.type || !can_quantize(t)) return v.type;
    const uint64_t n = v.elements(), row = v.shape.empty() ? 1 : v.shape.back();
    if (row % dtype_info(t).block_elems != 0 || dtype_bytes(t, n) >= v.nbytes) return v.type;
    if (v.type == DType::BF16 && t == DType::F16) return v.type;
    return t;
}

// Reports progress by output bytes from the writer's threads, about every percent.
class Progress {
public:
    Progress(const std::function<bool(double, const std::string&)>& cb, uint64_t total) : cb_(cb), total_(total) {}
    void add(uint64_t bytes) {
        if (!cb_) return;
        const uint64_t done = done_.fetch_add(bytes) + bytes;
        std::lock_guard<std::mutex> lock(mu_);
        if (cancelled_) throw Cancelled("quantization cancelled");
        if (done < next_ && done < total_) return;
        next_ = done + total_ / 100 + 1;
        if (!cb_(static_cast<double>(done) / static_cast<double>(std::max<uint64_t>(1, total_)), "quantizing")) {
            cancelled_ = true;
            throw Cancelled("quantization cancelled");
        }
    }

private:
    const std::function<bool(double, const std::string&)>& cb_;
    uint64_t total_;
    std::atomic<uint64_t> done_{0};
    std::mutex mu_;
    uint64_t next_ = 0;
    bool cancelled_ = false;
};

void copy_file_atomically(const fs::path& from, const fs::path& to) {
    const fs::path tmp = to.string() + ".tmp";
    std::error_code ec;
    fs::copy_file(from, tmp, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(tmp, to, ec);
    if (ec) {
        fs::remove(tmp);
        throw Error("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
    }
}

}  // namespace

QuantizeResult quantize_model(const QuantizeOptions& o) {
    if (!can_quantize_to(o.type)) throw Error(std::string("cannot quantize to ") + dtype_name(o.type));
    const fs::path in(o.input), out(o.output);
    if (out.extension() != ".gguf") throw Error("the output must be a .gguf file: " + o.output);
    std::error_code ec;
    if (!fs::exists(in, ec)) throw Error(o.input + " does not exist");
    if (fs::is_directory(in, ec))
        throw Error(o.input + " is a folder: quantize takes a GGUF file (convert a Hugging Face folder to GGUF first, "
                              "e.g. with llama.cpp's convert_hf_to_gguf.py)");
    if (fs::exists(out, ec) && fs::equivalent(in, out, ec)) throw Error("the output would overwrite the input: " + o.output);
    const ModelFiles files = ModelFiles::open({o.input}, /*find_mmproj=*/false);
    if (files.format() != ModelFormat::Gguf) throw Error(o.input + " is not a GGUF file");
    if (files.gguf_text_parts().size() > 1)
        throw Error(o.input + " is split in " + std::to_string(files.gguf_text_parts().size()) +
                    " parts: merge them first (llama.cpp's gguf-split --merge)");
    const GgufFile& g = *files.gguf_text();

    QuantizeResult r;
    GgufWriter w(g.alignment());
    for (const auto& [key, value] : g.metadata()) w.set(key, value);
    w.set_u32("general.file_type", gguf_file_type(o.type));
    w.set_u32("general.quantization_version", 2);

    struct Job {
        TensorView src;
        DType type;
    };
    std::vector<std::unique_ptr<Job>> jobs;
    uint64_t total_out = 0;
    for (const GgufTensorInfo& info : g.tensor_infos()) {
        auto job = std::make_unique<Job>(Job{g.view(info), DType::F32});
        job->type = target_type(job->src, o.type);
        r.input_bytes += job->src.nbytes;
        total_out += dtype_bytes(job->type, job->src.elements());
        if (job->type != job->src.type) ++r.quantized_tensors;
        else ++r.kept_tensors;
        jobs.push_back(std::move(job));
    }
    Progress progress(o.progress, total_out);
    for (const auto& job : jobs) {
        const Job* j = job.get();
        const std::vector<uint64_t> shape = j->src.shape.empty() ? std::vector<uint64_t>{1} : j->src.shape;
        const uint64_t row = shape.back();
        const uint64_t src_row_bytes = dtype_bytes(j->src.type, row), dst_row_bytes = dtype_bytes(j->type, row);
        w.add_tensor(j->src.name, shape, j->type, [j, row, src_row_bytes, dst_row_bytes, &progress](uint8_t* dst, uint64_t row0, uint64_t nrows) {
            const uint8_t* src = j->src.data + row0 * src_row_bytes;
            if (j->type == j->src.type) {
                std::copy(src, src + nrows * src_row_bytes, dst);
            } else {
                std::vector<float> tmp(row);
                for (uint64_t k = 0; k < nrows; ++k) {
                    dequantize_row(j->src.type, src + k * src_row_bytes, tmp.data(), row);
                    quantize_row(j->type, tmp.data(), dst + k * dst_row_bytes, row);
                }
            }
            progress.add(nrows * dst_row_bytes);
        });
    }
    if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
    w.write(o.output, o.threads ? o.threads : default_thread_count());
    r.output_bytes = total_out;
    r.files.push_back(o.output);
    if (r.kept_tensors)
        r.notes.push_back(std::to_string(r.kept_tensors) +
                          " tensors kept as stored (1-D norms and scalars, f32 tables, already quantized tensors, "
                          "rows that are not whole blocks)");

    const std::string mmproj = find_mmproj_next_to(o.input, files.config().text.hidden_size);
    if (mmproj.empty()) {
        r.notes.push_back("no mmproj file beside the input: the output has text input only");
    } else if (!o.copy_mmproj) {
        r.notes.push_back("the mmproj file " + mmproj + " was not copied: give it with --mmproj when loading");
    } else if (fs::equivalent(fs::path(mmproj).parent_path(), out.parent_path().empty() ? fs::path(".") : out.parent_path(), ec)) {
        r.notes.push_back("the towers stay in " + mmproj + ", which is found beside the output as it is");
    } else {
        const fs::path to = (out.parent_path().empty() ? fs::path(".") : out.parent_path()) / ("mmproj-" + out.filename().string());
        copy_file_atomically(mmproj, to);
        r.files.push_back(to.string());
        r.notes.push_back("the towers (" + mmproj + ") were copied unchanged to " + to.string());
    }
    if (o.progress) o.progress(1.0, "done");
    return r;
}

}  // namespace gd
