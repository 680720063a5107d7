// libFuzzer target: SafetensorsFile::parse on arbitrary bytes. A gd::Error is the expected outcome for
// malformed input; any other exception escaping, a crash or a sanitizer report is a finding. Every
// tensor view returned is touched (first and last byte) so that a view reaching outside the buffer
// is caught by AddressSanitizer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "common/error.h"
#include "format/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // A private heap copy so the buffer is exactly `size` bytes long for AddressSanitizer.
    std::vector<uint8_t> bytes(data, data + size);
    try {
        const auto f = gd::SafetensorsFile::parse(std::span<const uint8_t>(bytes.data(), bytes.size()), "fuzz.safetensors");
        volatile uint8_t sink = 0;
        uint64_t total = 0;
        const uint8_t* prev_end = nullptr;
        for (const auto& t : f.tensors()) {
            if (t.nbytes > 0) {
                sink = sink + t.data[0] + t.data[t.nbytes - 1];
                // Views are in offset order and do not overlap.
                if (prev_end && t.data < prev_end) std::abort();
                prev_end = t.data + t.nbytes;
            }
            total += t.nbytes;
            if (f.find(t.name) != &t) std::abort();
            (void)t.elements();
        }
        if (total > bytes.size()) std::abort();
        (void)sink;
    } catch (const gd::Error&) {
    }
    return 0;
}
