// Device discovery: a build without CUDA, a machine without a driver and a machine with GPUs are all
// normal answers, and what is reported is internally consistent.
#include <gtest/gtest.h>

#include "backend/device_query.h"

namespace gd {
namespace {

TEST(DeviceQuery, ReportsWhatThisBuildAndMachineHave) {
    const DeviceReport r = query_cuda_devices();
#ifdef GEMMADESK_HAVE_CUDA
    EXPECT_TRUE(r.cuda_built);
    EXPECT_NE(r.note.find("CUDA runtime"), std::string::npos) << r.note;
#else
    EXPECT_FALSE(r.cuda_built);
    EXPECT_TRUE(r.gpus.empty());
    EXPECT_NE(r.note.find("no CUDA support"), std::string::npos) << r.note;
#endif
    if (r.gpus.empty()) {
        EXPECT_FALSE(r.note.empty()) << "an empty list must say why";
        GTEST_SKIP() << "no CUDA GPU here (" << r.note << "): per-GPU checks skipped";
    }
    for (const GpuInfo& g : r.gpus) {
        EXPECT_FALSE(g.name.empty());
        EXPECT_GE(g.compute_major, 7) << "CUDA 13 supports sm_75 and newer";
        EXPECT_GT(g.total_bytes, 0u);
        EXPECT_LE(g.free_bytes, g.total_bytes);
    }
}

// Asking twice gives the same devices (the first call must not leave the runtime in an error state).
TEST(DeviceQuery, IsRepeatable) {
    const DeviceReport a = query_cuda_devices(), b = query_cuda_devices();
    EXPECT_EQ(a.cuda_built, b.cuda_built);
    EXPECT_EQ(a.gpus.size(), b.gpus.size());
    EXPECT_EQ(a.note, b.note);
}

}  // namespace
}  // namespace gd
