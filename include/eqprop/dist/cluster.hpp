// Cluster: the ranks of `mpirun -np R` (built only with meson -Dmpi=enabled) and the
// collective operations eqprop needs from them. A default-constructed Cluster is one process
// and every operation is a local copy or a no-op (an MPI build run without mpirun, and the
// shard tests); Cluster::world() is the ranks of mpirun. Only the thread that created the
// Cluster calls it (oneTBB's workers never do), so MPI is initialized with MPI_THREAD_FUNNELED.
//
// Every call is collective: all ranks make it, in the same order, with the same counts.
// Counts and offsets are in elements of the type named by the call.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "eqprop/error.hpp"
#include "eqprop/engine/processes.hpp"

namespace eqprop {

class Cluster : public Processes {
 public:
  Cluster();  // one process
  ~Cluster() override;
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  // The ranks started by mpirun (MPI_Init here, MPI_Finalize in the destructor); one process
  // when no launcher started more than one.
  static std::unique_ptr<Cluster> world(int* argc, char*** argv);

  int rank() const override { return rank_; }
  int size() const override { return size_; }

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
  // Processes: an error one rank meets in agree() (a missing file on its node, a full disk)
  // ends every rank with that message, rather than leaving the others waiting in the next
  // collective call; abort() is MPI_Abort.
  void broadcast(std::string& bytes, int from) const override;
  long max(long value) const override;
  int first_difference_from_root(const std::vector<std::uint64_t>& mine) const override;
  void agree(const std::function<void()>& step) const override;
  void abort(int code) const override;

 private:
  struct Comm;                  // the MPI communicator (MPI build only)
  std::unique_ptr<Comm> comm_;  // null: one process
  int rank_ = 0, size_ = 1;
  bool finalize_ = false;       // this object called MPI_Init
};

}  // namespace eqprop
