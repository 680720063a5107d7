// gemmadesk-cli make-test-model (being written).
#include <cstdio>

#include "commands.h"

namespace gd::cli {
int cmd_make_test_model(const Args&) {
    std::fprintf(stderr, "make-test-model: not built yet\n");
    return 1;
}
}  // namespace gd::cli
