#include "args.h"

#include <cctype>
#include <cstdint>

namespace gd::cli {

ParsedArgs::ParsedArgs(const std::vector<std::string>& args, const std::set<std::string>& with_value,
                       const std::set<std::string>& flags) {
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() < 2 || a.compare(0, 2, "--") != 0 || a == "--") {
            positional_.push_back(a);
            continue;
        }
        std::string name = a.substr(2), val;
        const auto eq = name.find('=');
        const bool inline_value = eq != std::string::npos;
        if (inline_value) {
            val = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (flags.count(name)) {
            if (inline_value) throw UsageError("option --" + name + " takes no value");
            flags_.insert(name);
        } else if (with_value.count(name)) {
            if (!inline_value) {
                if (i + 1 >= args.size()) throw UsageError("option --" + name + " needs a value");
                val = args[++i];
            }
            values_[name] = val;
            all_values_[name].push_back(val);
        } else {
            throw UsageError("unknown option --" + name);
        }
    }
}

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
    auto it = all_values_.find(name);
    return it == all_values_.end() ? std::vector<std::string>{} : it->second;
}

uint64_t parse_uint(const std::string& s, const std::string& what) {
    if (s.empty() || s.size() > 19) throw UsageError(what + ": '" + s + "' is not a number");
    uint64_t v = 0;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) throw UsageError(what + ": '" + s + "' is not a number");
        v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return v;
}

uint64_t parse_bytes(const std::string& s) {
    size_t k = 0;
    while (k < s.size() && (std::isdigit(static_cast<unsigned char>(s[k])) || s[k] == '.')) ++k;
    if (k == 0) throw UsageError("'" + s + "' is not a size (examples: 8GiB, 512MiB)");
    const double n = std::stod(s.substr(0, k));
    std::string unit = s.substr(k);
    for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    double mul = 1;
    if (unit.empty() || unit == "b") mul = 1;
    else if (unit == "k" || unit == "kib" || unit == "kb") mul = 1024.0;
    else if (unit == "m" || unit == "mib" || unit == "mb") mul = 1024.0 * 1024;
    else if (unit == "g" || unit == "gib" || unit == "gb") mul = 1024.0 * 1024 * 1024;
    else if (unit == "t" || unit == "tib" || unit == "tb") mul = 1024.0 * 1024 * 1024 * 1024;
    else throw UsageError("'" + s + "': unknown size unit '" + unit + "'");
    return static_cast<uint64_t>(n * mul);
}

}  // namespace gd::cli
