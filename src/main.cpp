// eqprop: command dispatch. The only place that catches errors, prints one line and
// chooses the exit code: 0 success, 2 bad usage or bad input, 1 anything else
// (a run stopped by a signal returns 128+signal itself, after saving).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "eqprop/commands.hpp"
#include "eqprop/error.hpp"

namespace {
const char* kUsage =
    "usage: eqprop <command> [options]   (eqprop <command> --help for each)\n\n"
    "commands:\n"
    "  train    train a network with Equilibrium Propagation, with checkpoints and resume\n"
    "  eval     error, energy and cost of a saved model on a split\n"
    "  info     what a checkpoint holds: configuration, progress, curves, tensor shapes\n"
    "  export   weights and biases of a checkpoint as a NumPy .npz archive\n"
    "  bench    measure training and evaluation speed on MNIST\n";
}

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  const eqprop::Words rest(args.begin() + 1, args.end());
  try {
    if (args[0] == "train") return eqprop::run_train(rest, std::cout, std::cerr);
    if (args[0] == "bench") return eqprop::run_bench_command(rest, std::cout);
    if (args[0] == "eval") return eqprop::run_eval(rest, std::cout);
    if (args[0] == "info") return eqprop::run_info(rest, std::cout);
    if (args[0] == "export") return eqprop::run_export(rest, std::cout);
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
