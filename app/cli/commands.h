#pragma once
// The subcommands of gemmadesk-cli. Each lives in its own cmd_<name>.cpp and returns the process
// exit status: 0 success, 1 failure (the error already printed), 2 bad usage.
#include <string>
#include <vector>

namespace gd::cli {

using Args = std::vector<std::string>;  // arguments after the subcommand name

int cmd_inspect(const Args& args);
int cmd_make_test_model(const Args& args);
int cmd_devices(const Args& args);
int cmd_models(const Args& args);
int cmd_tokenize(const Args& args);
int cmd_generate(const Args& args);
int cmd_encode(const Args& args);
int cmd_transcribe(const Args& args);
int cmd_chat(const Args& args);
int cmd_score(const Args& args);
int cmd_bench(const Args& args);
int cmd_plan(const Args& args);
int cmd_quantize(const Args& args);

}  // namespace gd::cli
