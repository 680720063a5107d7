#pragma once
// Errors of the engine. Everything that reads files throws gd::Error (or a subclass) with a
// message in plain words that names the file and, where it applies, the tensor or key.
#include <stdexcept>
#include <string>

namespace gd {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A model, image or audio file is malformed, truncated or inconsistent.
class FormatError : public Error {
public:
    using Error::Error;
};

// The file is well formed but does not describe a model we can use (missing or mis-shaped tensor).
class ModelError : public Error {
public:
    using Error::Error;
};

// An operation stopped because the caller asked it to (load or generation cancelled).
class Cancelled : public Error {
public:
    explicit Cancelled(const std::string& what) : Error(what) {}
};

}  // namespace gd
