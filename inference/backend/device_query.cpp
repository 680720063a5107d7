#include "backend/device_query.h"

#ifdef GEMMADESK_HAVE_CUDA
#include "backend/cuda/cuda_device_query.h"
#endif

namespace gd {

DeviceReport query_cuda_devices() {
#ifdef GEMMADESK_HAVE_CUDA
    return cuda_query_devices();
#else
    DeviceReport r;
    r.cuda_built = false;
    r.note = "this build has no CUDA support (nvcc was not found when it was configured)";
    return r;
#endif
}

}  // namespace gd
