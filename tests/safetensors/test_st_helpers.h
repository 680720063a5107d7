#pragma once
// Helpers shared by the safetensors tests: building raw files from a header string and reading the
// message of the FormatError a parse gives.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "format/safetensors.h"

namespace gd::test {

// 8-byte little-endian length (the header's size unless `declared_len` is given), the header text and
// `data_bytes` bytes of data (0, 1, 2, ...).
inline std::vector<uint8_t> raw_safetensors(const std::string& header, uint64_t data_bytes,
                                            int64_t declared_len = -1) {
    std::vector<uint8_t> out(8);
    const uint64_t n = declared_len >= 0 ? static_cast<uint64_t>(declared_len) : header.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(n >> (8 * i));
    out.insert(out.end(), header.begin(), header.end());
    for (uint64_t i = 0; i < data_bytes; ++i) out.push_back(static_cast<uint8_t>(i));
    return out;
}

// The message of the FormatError that parsing `bytes` gives; fails the test when it gives none or
// another exception type.
inline std::string parse_error_of(const std::vector<uint8_t>& bytes, const std::string& name = "bad.safetensors") {
    try {
        SafetensorsFile::parse(bytes, name);
    } catch (const FormatError& e) {
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected a FormatError, got another exception: " << e.what();
        return "";
    }
    ADD_FAILURE() << "expected a FormatError, the parse succeeded";
    return "";
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& v) {
    std::vector<uint8_t> out(v.size() * sizeof(T));
    if (!out.empty()) std::memcpy(out.data(), v.data(), out.size());
    return out;
}

inline std::vector<uint8_t> view_bytes(const TensorView& t) { return {t.data, t.data + t.nbytes}; }

inline SafetensorsWriteTensor from_bytes(std::string name, DType type, std::vector<uint64_t> shape,
                                         std::vector<uint8_t> data) {
    return {std::move(name), type, std::move(shape), [data](uint8_t* dst, uint64_t n) {
                ASSERT_EQ(n, data.size());
                std::memcpy(dst, data.data(), n);
            }};
}

}  // namespace gd::test
