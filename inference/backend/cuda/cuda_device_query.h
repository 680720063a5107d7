#pragma once
#include "backend/device_query.h"

namespace gd {
// Lists CUDA devices through the runtime API; never throws (a missing driver is reported in `note`).
DeviceReport cuda_query_devices();
}  // namespace gd
