#include "backend/weight_shape.h"

#include "common/error.h"
#include "format/quant/quant.h"

namespace gd {

Weight describe_weight(const TensorView& view) {
    Weight w;
    w.name = view.name;
    w.type = view.type;
    std::vector<uint64_t> s(view.shape.begin(), view.shape.end());
    // Drop leading size-1 dimensions beyond the last two ([1, n] vectors, [1, R, C]).
    while (s.size() > 2 && s.front() == 1) s.erase(s.begin());
    if (s.empty()) s = {1};
    if (s.size() == 1) {
        w.rows = 1;
        w.cols = static_cast<int64_t>(s[0]);
    } else if (s.size() == 2) {
        w.rows = static_cast<int64_t>(s[0]);
        w.cols = static_cast<int64_t>(s[1]);
    } else if (s.size() == 3) {
        w.experts = static_cast<int64_t>(s[0]);
        w.rows = static_cast<int64_t>(s[1]);
        w.cols = static_cast<int64_t>(s[2]);
    } else {
        throw ModelError("tensor " + view.name + " has " + std::to_string(s.size()) + " dimensions; weights have at most 3");
    }
    if (!dtype_info(view.type).dequantizable) {
        throw ModelError("tensor " + view.name + " is stored as " + dtype_name(view.type) +
                         ", which this engine cannot compute with yet");
    }
    w.row_bytes = dtype_bytes(view.type, static_cast<uint64_t>(w.cols));
    if (w.stored_bytes() != view.nbytes) throw ModelError("tensor " + view.name + ": size does not match its shape");
    if (w.rows == 1 && w.experts == 1) {
        w.f32.resize(static_cast<size_t>(w.cols));
        dequantize_row(w.type, view.data, w.f32.data(), static_cast<uint64_t>(w.cols));
    }
    return w;
}

}  // namespace gd
