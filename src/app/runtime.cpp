#include "eqprop/app/runtime.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "eqprop/error.hpp"
#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/blas_choice.hpp"
#if EQPROP_MPI
#include "eqprop/dist/cluster.hpp"
#include "eqprop/dist/sharded.hpp"
#endif

namespace eqprop {

void choose_blas_kernel(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or ours after the re-exec
  const std::string better = better_coretype(blas_kernel_name(), cpu_features());
  if (better.empty()) return;
  if (setenv("OPENBLAS_CORETYPE", better.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);
  unsetenv("OPENBLAS_CORETYPE");  // no re-exec (no /proc?): go on with OpenBLAS's own choice
}

Runtime make_runtime(int* argc, char*** argv) {
  Runtime rt;
#if EQPROP_MPI
  std::unique_ptr<Cluster> cluster = Cluster::world(argc, argv);
  if (cluster->size() > 1) {
    const Cluster* c = cluster.get();
    rt.distribution = [c] { return std::make_unique<ShardedDistribution>(*c); };
  }
  rt.processes = std::move(cluster);
#else
  (void)argc;
  (void)argv;
  if (launcher_ranks() > 1) {
    throw InputError("started by mpirun with " + std::to_string(launcher_ranks()) +
                     " ranks, but this eqprop was built without MPI: every rank would train the whole run "
                     "alone and write the same files. Build with 'meson setup build-mpi -Dmpi=enabled' "
                     "(apt-get install libopenmpi-dev openmpi-bin), or run one process");
  }
  rt.processes = std::make_unique<Processes>();
#endif
  if (!rt.distribution) rt.distribution = [] { return std::unique_ptr<Distribution>(); };
  return rt;
}

ThreadSetup::ThreadSetup(int threads)
    : limit_(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads)) {
  blas_single_threaded();
}

}  // namespace eqprop
