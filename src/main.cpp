// eqprop: command dispatch. The only place that catches errors, prints one line and
// chooses the exit code: 0 success, 2 bad usage or bad input, 1 anything else.
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "eqprop/bench.hpp"
#include "eqprop/cli.hpp"
#include "eqprop/error.hpp"
#include "eqprop/run.hpp"

namespace {
const char* kUsage =
    "usage: eqprop <command> [options]\n\n"
    "commands:\n"
    "  train    train a network with Equilibrium Propagation (eqprop train --help)\n"
    "  bench    measure training and evaluation speed on MNIST (eqprop bench --help)\n";
}

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  try {
    if (args[0] == "train" || args[0] == "bench") {
      const auto cmd = args[0] == "train" ? eqprop::Command::Train : eqprop::Command::Bench;
      const auto parsed = eqprop::parse_train_args({args.begin() + 1, args.end()}, cmd);
      if (parsed.help) {
        std::cout << eqprop::help_text(cmd);
        return 0;
      }
      if (parsed.dump_config) {
        std::cout << eqprop::format_config(parsed.cfg);
        return 0;
      }
      if (cmd == eqprop::Command::Train) {
        eqprop::run_train(parsed.cfg, std::cout);
      } else {
        eqprop::run_bench(parsed.cfg, std::cout);
      }
      return 0;
    }
    std::cerr << "eqprop: unknown command '" << args[0] << "'\n" << kUsage;
    return 2;
  } catch (const eqprop::InputError& e) {
    std::cerr << "eqprop: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "eqprop: error: " << e.what() << "\n";
    return 1;
  }
}
