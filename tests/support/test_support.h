#pragma once
// Shared helpers for the tests: where test data lives and scratch directories.
#include <cstdint>
#include <string>
#include <vector>

namespace gd::test {

std::string data_dir();             // tests/data in the source tree
std::string shared_fixtures_dir();  // ../shared/fixtures next to the repository (may be absent)
std::string cli_path();             // the gemmadesk-cli binary under test
// A fresh, empty directory for one test (under $GD_TMP, which ctest points into the build tree).
// It is left in place after the test for inspection.
std::string scratch_dir(const std::string& test_name);

std::vector<uint8_t> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<uint8_t>& bytes);

// Runs a command through /bin/sh, capturing stdout+stderr; returns the exit status.
int run_command(const std::string& command, std::string* output);

}  // namespace gd::test
