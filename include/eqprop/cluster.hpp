// Cluster: the processes of one run and the few collective operations eqprop needs from
// them. A default-constructed Cluster is one process and every operation is a local copy
// or a no-op; the MPI build (meson -Dmpi=enabled, cluster_mpi.cpp) adds Cluster::world(),
// the ranks of `mpirun -np R`. Only the thread that created the Cluster calls it (oneTBB's
// workers never do), so MPI is initialized with MPI_THREAD_FUNNELED.
//
// Every call is collective: all ranks make it, in the same order, with the same counts.
// Counts and offsets are in elements of the type named by the call.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eqprop/error.hpp"

namespace eqprop {

// An error every rank of a run agreed on (Cluster::agree): each rank exits with `code`
// and only rank 0 prints the message, which names the rank the error came from.
struct RankError : std::runtime_error {
  RankError(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

class Cluster {
 public:
  Cluster();  // one process
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // The ranks started by mpirun (MPI_Init here, MPI_Finalize in the destructor). Without
  // MPI in the build: one process, but a launch by mpirun with more than one rank is
  // refused, since every rank would then train the whole run alone and write the same files.
  static std::unique_ptr<Cluster> world(int* argc, char*** argv);
  static bool built_with_mpi();
  // The one-process cluster for callers that never run across ranks (tests, bench, eval).
  static const Cluster& solo();

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

  // Every rank sends `send_count` elements; afterwards `recv` holds rank r's elements at
  // offsets[r] (counts[r] of them) on every rank.
  void allgather(const void* send, int send_count, void* recv, const std::vector<int>& counts,
                 const std::vector<int>& offsets, int elem_bytes) const;
  // Rank 0 receives rank r's elements at offsets[r]; recv is only read on rank 0.
  void gather_to_root(const float* send, int send_count, float* recv, const std::vector<int>& counts,
                      const std::vector<int>& offsets) const;
  // Rank r receives counts[r] elements from rank 0's send + offsets[r].
  void scatter_from_root(const float* send, const std::vector<int>& counts, const std::vector<int>& offsets,
                         float* recv, int recv_count) const;
  // Rank r sends send_counts[q] elements from send + send_offsets[q] to every rank q.
  void all_to_all(const float* send, const std::vector<int>& send_counts, const std::vector<int>& send_offsets,
                  float* recv, const std::vector<int>& recv_counts, const std::vector<int>& recv_offsets) const;
  // `bytes` of rank `from` on every rank.
  void broadcast(std::string& bytes, int from) const;
  // The largest of the ranks' values, on every rank.
  long max(long value) const;

  // Runs `step` on every rank; if it throws on any rank, every rank throws the same
  // RankError carrying the message of the lowest failing rank (prefixed with its number
  // when size() > 1) and its exit code (2 for InputError, else 1). So an error one rank
  // meets (a missing file on its node, a full disk) ends every rank with that message,
  // rather than leaving the others waiting in the next collective call.
  void agree(const std::function<void()>& step) const;
  // Ends every rank at once (MPI_Abort): for an error met outside agree(), when the other
  // ranks may already wait in a collective call. One process: returns.
  void abort(int code) const;

 private:
  struct Comm;                  // the MPI communicator (MPI build only)
  std::unique_ptr<Comm> comm_;  // null: one process
  int rank_ = 0, size_ = 1;
  bool finalize_ = false;       // this object called MPI_Init
};

}  // namespace eqprop
