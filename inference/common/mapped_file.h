#pragma once
// A read-only memory mapping of a whole file. Model files are mapped, never copied: weights are
// used where they lie and the page cache is shared between processes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace gd {

class MappedFile {
public:
    // Maps `path` read-only. Throws gd::Error naming the path when it cannot be opened or mapped.
    static std::shared_ptr<const MappedFile> open(const std::string& path);

    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return path_; }
    const uint8_t* data() const { return data_; }
    uint64_t size() const { return size_; }
    std::span<const uint8_t> bytes() const { return {data_, static_cast<size_t>(size_)}; }

private:
    MappedFile() = default;
    std::string path_;
    const uint8_t* data_ = nullptr;
    uint64_t size_ = 0;
};

}  // namespace gd
