// A build without nvcc: the CUDA backend is absent, and asking for it says so.
#include "backend/backend.h"
#include "common/error.h"

namespace gd {

bool cuda_backend_built() { return false; }

std::unique_ptr<Backend> make_cuda_backend(int) {
    throw Error("this build of Gemma Desk has no CUDA support (nvcc was not found when it was configured): "
                "the model runs on the CPU");
}

}  // namespace gd
