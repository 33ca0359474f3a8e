// eqprop-commbench: what the two ways of synchronizing a minibatch's update across MPI
// ranks cost in communication on this machine and network (MPI builds only).
//   states:  MPI_Allgatherv of every rank's samples' states (free and nudged, all layers),
//            from which every rank forms the same full update (what eqprop does);
//   weights: MPI_Allreduce (sum) of a weight-and-bias-sized buffer of float32, each rank
//            having formed the update of its own samples.
//
//   mpirun -np R eqprop-commbench [--sizes 784,500,10] [--batch 20] [--repeat 2000]
//
// Prints, per minibatch, the bytes each rank sends and receives and the median wall time
// of each call over the repeats (rank 0 prints).
#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename Call>
double time_call(int repeat, MPI_Comm comm, Call&& call) {
  std::vector<double> t(repeat);
  for (int i = 0; i < repeat; ++i) {
    MPI_Barrier(comm);
    const double t0 = MPI_Wtime();
    call();
    t[i] = MPI_Wtime() - t0;
  }
  // The slowest rank decides when the update can start.
  double m = median(t), worst = 0;
  MPI_Allreduce(&m, &worst, 1, MPI_DOUBLE, MPI_MAX, comm);
  return worst;
}

struct Options {
  std::vector<long> sizes{784, 500, 10};
  int batch = 20, repeat = 2000;
};

// The command line into o; returns -1 to go on, else the exit code (after usage).
int parse(int argc, char** argv, int rank, Options& o) {
  std::vector<long>& sizes = o.sizes;
  int& batch = o.batch;
  int& repeat = o.repeat;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--sizes" && v) {
      sizes.clear();
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) sizes.push_back(std::atol(x.c_str()));
      ++i;
    } else if (a == "--batch" && v) {
      batch = std::atoi(v), ++i;
    } else if (a == "--repeat" && v) {
      repeat = std::atoi(v), ++i;
    } else {
      if (rank == 0) std::fprintf(stderr, "usage: eqprop-commbench [--sizes 784,500,10] [--batch 20] [--repeat 2000]\n");
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (sizes.size() < 2 || batch < 1 || repeat < 1) {
    if (rank == 0) std::fprintf(stderr, "eqprop-commbench: need at least two sizes, batch >= 1, repeat >= 1\n");
    return 2;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  Options o;
  if (const int code = parse(argc, argv, rank, o); code >= 0) {
    MPI_Finalize();
    return code;
  }
  const std::vector<long>& sizes = o.sizes;
  const int batch = o.batch, repeat = o.repeat;
  long width = 0, params = 0;
  for (std::size_t k = 1; k < sizes.size(); ++k) width += sizes[k], params += sizes[k - 1] * sizes[k] + sizes[k];
  // States: two sets (free, nudged) of every layer for this rank's rows of the minibatch.
  std::vector<int> counts(ranks), offsets(ranks);
  long total = 0;
  for (int r = 0; r < ranks; ++r) {
    const long rows = long(batch) * (r + 1) / ranks - long(batch) * r / ranks;
    counts[r] = static_cast<int>(rows * width * 2);
    offsets[r] = static_cast<int>(total);
    total += counts[r];
  }
  std::vector<float> mine(counts[rank], 1.f), all(total), w(params, 1.f), wsum(params);
  const double t_states = time_call(repeat, MPI_COMM_WORLD, [&] {
    MPI_Allgatherv(mine.data(), counts[rank], MPI_FLOAT, all.data(), counts.data(), offsets.data(), MPI_FLOAT,
                   MPI_COMM_WORLD);
  });
  const double t_weights = time_call(repeat, MPI_COMM_WORLD, [&] {
    MPI_Allreduce(w.data(), wsum.data(), static_cast<int>(params), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  });
  if (rank == 0) {
    std::printf("ranks %d, sizes", ranks);
    for (long s : sizes) std::printf(" %ld", s);
    std::printf(", batch %d, %d repeats\n", batch, repeat);
    std::printf("states  (allgatherv): %9ld bytes sent by rank 0, %9ld received, %8.1f us per minibatch\n",
                long(counts[0]) * 4, (total - counts[0]) * 4, t_states * 1e6);
    std::printf("weights (allreduce):  %9ld bytes of float32 reduced,           %8.1f us per minibatch\n",
                params * 4, t_weights * 1e6);
  }
  MPI_Finalize();
  return 0;
}
