#pragma once
// A small command-line parser shared by the subcommands: "--name value", "--name=value", boolean
// "--flag", and positional arguments. Unknown options are errors that name the option.
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace gd::cli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ParsedArgs {
public:
    // `with_value`: options that take a value; `flags`: options that do not.
    ParsedArgs(const std::vector<std::string>& args, const std::set<std::string>& with_value,
               const std::set<std::string>& flags);

    bool flag(const std::string& name) const { return flags_.count(name) > 0; }
    std::optional<std::string> value(const std::string& name) const;
    std::string value_or(const std::string& name, const std::string& dflt) const { return value(name).value_or(dflt); }
    // Every value of a repeatable option, in order (value() gives the last).
    std::vector<std::string> values(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> all_values_;
    std::set<std::string> flags_;
    std::vector<std::string> positional_;
};

// "8GiB", "512MiB", "4G", "1000000" -> bytes. Throws UsageError.
uint64_t parse_bytes(const std::string& s);
// Non-negative integer. Throws UsageError naming `what`.
uint64_t parse_uint(const std::string& s, const std::string& what);

}  // namespace gd::cli
