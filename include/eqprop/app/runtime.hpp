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

// OpenBLAS's kernels: when OpenBLAS fell back to generic ones on a CPU with the features of
// better ones (kernels/blas_choice.hpp), sets OPENBLAS_CORETYPE and re-executes this program
// with the same arguments, since OpenBLAS reads the variable only when it loads. It returns
// when nothing is to change: OPENBLAS_CORETYPE already set (a user's choice is kept, e.g.
// PRESCOTT to repeat an older run's bits), a known model, or the re-exec failed. Called first
// in main() and in the tests' main(), before any thread or MPI_Init, so every process of a
// run and every test uses the same kernels (their sums round differently).
void choose_blas_kernel(char** argv);

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
