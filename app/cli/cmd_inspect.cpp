// gemmadesk-cli inspect (being written).
#include <cstdio>

#include "commands.h"

namespace gd::cli {
int cmd_inspect(const Args&) {
    std::fprintf(stderr, "inspect: not built yet\n");
    return 1;
}
}  // namespace gd::cli
