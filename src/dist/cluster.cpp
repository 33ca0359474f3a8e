// Cluster: the ranks of mpirun. Each operation has a one-process branch (a local copy) used
// whenever size() == 1, so a single process never calls MPI. Compiled only in the MPI build.
#include "eqprop/dist/cluster.hpp"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>

#include <mpi.h>

namespace eqprop {

struct Cluster::Comm {
  MPI_Comm comm = MPI_COMM_NULL;
};
namespace {
// MPI reports its failures through the error handler; MPI_ERRORS_ARE_FATAL (the default)
// ends the job with Open MPI's message, which is what we want for a lost rank.
MPI_Datatype bytes_type(int elem_bytes) {
  MPI_Datatype t = MPI_BYTE;
  if (elem_bytes != 1) {
    MPI_Type_contiguous(elem_bytes, MPI_BYTE, &t);
    MPI_Type_commit(&t);
  }
  return t;
}
void free_type(MPI_Datatype t) {
  if (t != MPI_BYTE) MPI_Type_free(&t);
}
}  // namespace

Cluster::Cluster() = default;

Cluster::~Cluster() {
  if (comm_) MPI_Comm_free(&comm_->comm);
  if (finalize_) MPI_Finalize();
}

std::unique_ptr<Cluster> Cluster::world(int* argc, char*** argv) {
  auto c = std::make_unique<Cluster>();
  if (launcher_ranks() > 1) {
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    c->finalize_ = true;
    if (provided < MPI_THREAD_FUNNELED) {
      throw std::runtime_error("the MPI library does not support MPI_THREAD_FUNNELED");
    }
    c->comm_ = std::make_unique<Comm>();
    MPI_Comm_dup(MPI_COMM_WORLD, &c->comm_->comm);
    MPI_Comm_rank(c->comm_->comm, &c->rank_);
    MPI_Comm_size(c->comm_->comm, &c->size_);
  }
  return c;
}

void Cluster::allgather(const void* send, int send_count, void* recv, [[maybe_unused]] const std::vector<int>& counts,
                        const std::vector<int>& offsets, int elem_bytes) const {
  if (size_ == 1) {
    if (send_count > 0 && static_cast<const char*>(send) != static_cast<char*>(recv) + std::size_t(offsets[0]) * elem_bytes)
      std::memmove(static_cast<char*>(recv) + std::size_t(offsets[0]) * elem_bytes, send,
                   std::size_t(send_count) * elem_bytes);
    return;
  }
  MPI_Datatype t = bytes_type(elem_bytes);
  MPI_Allgatherv(send, send_count, t, recv, counts.data(), offsets.data(), t, comm_->comm);
  free_type(t);
}

void Cluster::gather_to_root(const float* send, int send_count, float* recv, [[maybe_unused]] const std::vector<int>& counts,
                             const std::vector<int>& offsets) const {
  if (size_ == 1) {
    if (send_count > 0) std::memmove(recv + offsets[0], send, std::size_t(send_count) * sizeof(float));
    return;
  }
  MPI_Gatherv(send, send_count, MPI_FLOAT, recv, counts.data(), offsets.data(), MPI_FLOAT, 0, comm_->comm);
}

void Cluster::scatter_from_root(const float* send, [[maybe_unused]] const std::vector<int>& counts, const std::vector<int>& offsets,
                                float* recv, int recv_count) const {
  if (size_ == 1) {
    if (recv_count > 0) std::memmove(recv, send + offsets[0], std::size_t(recv_count) * sizeof(float));
    return;
  }
  MPI_Scatterv(send, counts.data(), offsets.data(), MPI_FLOAT, recv, recv_count, MPI_FLOAT, 0, comm_->comm);
}

void Cluster::all_to_all(const float* send, const std::vector<int>& send_counts, const std::vector<int>& send_offsets,
                         float* recv, [[maybe_unused]] const std::vector<int>& recv_counts,
                         const std::vector<int>& recv_offsets) const {
  if (size_ == 1) {
    if (send_counts[0] > 0)
      std::memmove(recv + recv_offsets[0], send + send_offsets[0], std::size_t(send_counts[0]) * sizeof(float));
    return;
  }
  MPI_Alltoallv(send, send_counts.data(), send_offsets.data(), MPI_FLOAT, recv, recv_counts.data(),
                recv_offsets.data(), MPI_FLOAT, comm_->comm);
}

void Cluster::broadcast([[maybe_unused]] std::string& bytes, [[maybe_unused]] int from) const {
  if (size_ == 1) return;
  unsigned long long n = bytes.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, from, comm_->comm);
  bytes.resize(n);
  // In pieces below 2^31 bytes: MPI counts are ints.
  constexpr unsigned long long piece = 1ull << 30;
  for (unsigned long long done = 0; done < n; done += piece) {
    const int len = static_cast<int>(std::min(piece, n - done));
    MPI_Bcast(bytes.data() + done, len, MPI_BYTE, from, comm_->comm);
  }
}

long Cluster::max(long value) const {
  if (size_ == 1) return value;
  long out = value;
  MPI_Allreduce(&value, &out, 1, MPI_LONG, MPI_MAX, comm_->comm);
  return out;
}

int Cluster::first_difference_from_root(const std::vector<std::uint64_t>& mine) const {
  const int n = static_cast<int>(mine.size());
  std::vector<std::uint64_t> all(std::size_t(n) * size_);
  std::vector<int> counts(size_, n), offsets(size_);
  for (int r = 0; r < size_; ++r) offsets[r] = n * r;
  allgather(mine.data(), n, all.data(), counts, offsets, sizeof(std::uint64_t));
  for (int i = 0; i < n; ++i)
    if (all[i] != mine[i]) return i;
  return -1;
}

void Cluster::agree(const std::function<void()>& step) const {
  if (size_ == 1) {
    step();  // one process: the error keeps its own type
    return;
  }
  int code = 0;
  std::string message;
  try {
    step();
  } catch (const RankError&) {
    throw;  // already agreed on by every rank
  } catch (const InputError& e) {
    code = 2;
    message = e.what();
  } catch (const std::exception& e) {
    code = 1;
    message = e.what();
  }
  // The lowest failing rank speaks: encode (rank, code) so that max() finds it.
  const long key = code ? long(size_ - rank_) * 4 + code : 0;
  const long worst = max(key);
  if (worst == 0) return;
  const int from = size_ - static_cast<int>(worst / 4);
  const int agreed_code = static_cast<int>(worst % 4);
  broadcast(message, from);
  throw RankError("rank " + std::to_string(from) + " of " + std::to_string(size_) + ": " + message, agreed_code);
}

void Cluster::abort(int code) const {
  if (size_ == 1) return;
  MPI_Abort(comm_->comm, code);
}

}  // namespace eqprop
