// eqprop: command dispatch. The only place that catches errors, prints one line and
// chooses the exit code: 0 success, 2 bad usage or bad input, 1 anything else
// (a run stopped by a signal returns 128+signal itself, after saving).
//
// Under mpirun (MPI build) only `train` runs across the ranks, and an error is one line
// naming the rank it came from. An error every rank agreed on (RankError) is printed once, by
// rank 0, as is a divergence (every rank meets it at the same step: it is found in figures
// and parameters the ranks share); any other error on one rank is printed by that rank and
// ends the whole job (MPI_Abort), since the other ranks may be waiting for it. (Open MPI adds
// its own notes on the job's end unless mpirun is given --quiet.)
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "eqprop/error.hpp"
#include "eqprop/version.hpp"
#include "eqprop/app/commands.hpp"
#include "eqprop/app/runtime.hpp"

int main(int argc, char** argv) {
  eqprop::choose_blas_kernel(argv);
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
    if (speaks) (args.empty() ? std::cerr : std::cout) << eqprop::program_usage();
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
      std::cerr << "eqprop: error: rank " << cluster->rank() << " of " << cluster->size() << ": " << e.what()
                << " (ending every rank)\n" << std::flush;
      cluster->abort(code);
    }
    std::cerr << "eqprop: error: " << e.what() << "\n";
    return code;
  };
  try {
    const eqprop::CommandEntry* command = eqprop::find_command(args[0]);
    if (!command) {
      if (speaks) std::cerr << "eqprop: unknown command '" << args[0] << "'\n" << eqprop::program_usage();
      return 2;
    }
    if (!command->across_ranks && cluster->size() > 1) {
      if (speaks) std::cerr << "eqprop: error: only 'train' runs across MPI ranks; run '" << args[0] << "' as one process\n";
      return 2;
    }
    return command->run(rest, std::cout, std::cerr, rt);
  } catch (const eqprop::RankError& e) {
    if (speaks) std::cerr << "eqprop: error: " << e.what() << "\n";
    return e.code;
  } catch (const eqprop::DivergenceError& e) {
    if (cluster->size() == 1) return fail(e, 1);
    if (speaks) std::cerr << "eqprop: error: every rank of " << cluster->size() << ": " << e.what() << "\n";
    return 1;
  } catch (const eqprop::InputError& e) {
    return fail(e, 2);
  } catch (const std::exception& e) {
    return fail(e, 1);
  }
}
