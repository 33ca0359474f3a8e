// The runtime of one eqprop process, set up once in main(): the processes of the run (one, or
// the ranks of mpirun in the MPI build) with the Trainer hooks that go with them, and the
// thread set-up every command runs under.
#pragma once
#include <tbb/global_control.h>

#include <functional>
#include <memory>

#include "eqprop/engine/distribution.hpp"
#include "eqprop/engine/processes.hpp"

namespace eqprop {

struct Runtime {
  std::unique_ptr<Processes> processes;
  // The hooks of a Trainer that runs across `processes` (null result: one process).
  std::function<std::unique_ptr<Distribution>()> distribution;
};

// The MPI build: the ranks of mpirun (MPI_Init). Without MPI: one process, but a launch by
// mpirun with more than one rank is refused (InputError), since every rank would then train
// the whole run alone and write the same files.
Runtime make_runtime(int* argc, char*** argv);

// For the life of this object: at most `threads` oneTBB workers (every parallel_for respects
// it) and a single-threaded OpenBLAS, since TBB owns all parallelism and OpenBLAS must not
// start threads of its own inside a task.
class ThreadSetup {
 public:
  explicit ThreadSetup(int threads);

 private:
  tbb::global_control limit_;
};

}  // namespace eqprop
