// Typed errors. Library code throws these; only main() catches, prints one line and
// chooses the exit code (2 for bad input, 1 for anything else).
#pragma once
#include <stdexcept>
#include <string>

namespace eqprop {

// Bad user input: a config key, a command-line option, a data file.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ConfigError : InputError {
  using InputError::InputError;
};
struct DataError : InputError {
  using InputError::InputError;
};
// Training produced a non-finite number (a learning rate far too large, say).
struct DivergenceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace eqprop
