// Fuzz target: the option parser. The input is a config file, or (first byte odd) a command
// line of newline-separated words. A ConfigError is the expected answer to bad input; a
// configuration that parses must pass Config::validate() and survive --dump-config.
#include <cstdint>
#include <string>
#include <vector>

#include "eqprop/app/cli.hpp"
#include "eqprop/error.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::string> args;
  if (data[0] & 1) {
    std::string word;
    for (std::size_t i = 1; i < size; ++i) {
      if (data[i] == '\n') {
        args.push_back(word);
        word.clear();
      } else {
        word.push_back(static_cast<char>(data[i]));
      }
    }
    args.push_back(word);
  } else {
    args = {"--config", write_fuzz_input(data + 1, size - 1)};
  }
  try {
    const auto a = eqprop::parse_train_args(args);
    if (!a.help) {
      a.cfg.validate();
      // What --dump-config prints must read back to the same configuration.
      const std::string dumped = eqprop::format_config(a.cfg);
      const std::string& path = write_fuzz_input(reinterpret_cast<const std::uint8_t*>(dumped.data()), dumped.size());
      if (eqprop::format_config(eqprop::parse_train_args({"--config", path}).cfg) != dumped) __builtin_trap();
    }
  } catch (const eqprop::ConfigError&) {
  }
  return 0;
}
