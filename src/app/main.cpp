// eqprop: command dispatch. The only place that catches errors, prints one line and
// chooses the exit code: 0 success, 2 bad usage or bad input, 1 anything else
// (a run stopped by a signal returns 128+signal itself, after saving).
//
// Under mpirun (MPI build) only `train` runs across the ranks. An error every rank agreed
// on (RankError) is printed once, by rank 0; any other error on one rank is printed with
// its rank and ends the whole job (MPI_Abort), since the other ranks may be waiting for it.
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "eqprop/error.hpp"
#include "eqprop/version.hpp"
#include "eqprop/app/commands.hpp"
#include "eqprop/app/runtime.hpp"

namespace {
const char* kUsage =
    "usage: eqprop <command> [options]   (eqprop <command> --help for each)\n\n"
    "commands:\n"
    "  train    train a network with Equilibrium Propagation, with checkpoints and resume\n"
    "  eval     error, energy and cost of a saved model on a split\n"
    "  info     what a checkpoint holds: configuration, progress, curves, tensor shapes\n"
    "  export   weights and biases of a checkpoint as a NumPy .npz archive\n"
    "  bench    measure training and evaluation speed on MNIST\n\n"
    "eqprop --version prints the version.\n";
}

int main(int argc, char** argv) {
  eqprop::Runtime rt;
  try {
    rt = eqprop::make_runtime(&argc, &argv);
  } catch (const std::exception& e) {
    std::cerr << "eqprop: error: " << e.what() << "\n";
    return 2;
  }
  const std::vector<std::string> args(argv + 1, argv + argc);
  const eqprop::Processes* cluster = rt.processes.get();
  const bool speaks = cluster->root();
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    if (speaks) (args.empty() ? std::cerr : std::cout) << kUsage;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "-V" || args[0] == "version") {
    if (speaks) std::cout << "eqprop " << eqprop::kVersion << "\n";
    return 0;
  }
  const eqprop::Words rest(args.begin() + 1, args.end());
  // Error output: once for an agreed error; with the rank, then the end of the job, otherwise.
  auto fail = [&](const std::exception& e, int code) {
    if (cluster->size() > 1) {
      std::cerr << "eqprop: error on rank " << cluster->rank() << " of " << cluster->size() << ": " << e.what()
                << "\n" << std::flush;
      cluster->abort(code);
    }
    std::cerr << "eqprop: error: " << e.what() << "\n";
    return code;
  };
  try {
    if (args[0] == "train") return eqprop::run_train(rest, std::cout, std::cerr, rt);
    if (cluster->size() > 1) {
      if (speaks) std::cerr << "eqprop: error: only 'train' runs across MPI ranks; run '" << args[0] << "' as one process\n";
      return 2;
    }
    if (args[0] == "bench") return eqprop::run_bench_command(rest, std::cout);
    if (args[0] == "eval") return eqprop::run_eval(rest, std::cout);
    if (args[0] == "info") return eqprop::run_info(rest, std::cout);
    if (args[0] == "export") return eqprop::run_export(rest, std::cout);
    std::cerr << "eqprop: unknown command '" << args[0] << "'\n" << kUsage;
    return 2;
  } catch (const eqprop::RankError& e) {
    if (speaks) std::cerr << "eqprop: error: " << e.what() << "\n";
    return e.code;
  } catch (const eqprop::InputError& e) {
    return fail(e, 2);
  } catch (const std::exception& e) {
    return fail(e, 1);
  }
}
