// gemmadesk-cli devices: the GPUs the CUDA runtime sees (none is a normal answer).
#include <cstdio>

#include "backend/device_query.h"
#include "commands.h"

namespace gd::cli {

int cmd_devices(const Args& args) {
    if (!args.empty()) {
        std::fprintf(stderr, "usage: gemmadesk-cli devices\n");
        return 2;
    }
    const DeviceReport r = query_cuda_devices();
    std::printf("CUDA: %s\n", r.note.c_str());
    if (r.gpus.empty()) std::printf("no CUDA GPU: inference runs on the CPU\n");
    for (const auto& g : r.gpus)
        std::printf("GPU %d: %s, compute %d.%d, %.1f GiB total, %.1f GiB free\n", g.index, g.name.c_str(),
                    g.compute_major, g.compute_minor, g.total_bytes / 1073741824.0, g.free_bytes / 1073741824.0);
    return 0;
}

}  // namespace gd::cli
