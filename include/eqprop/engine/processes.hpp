// Processes: the processes of one run, as the train session sees them: who speaks, and the few
// agreements every process must reach together. This class is the one process of a plain run,
// where every call is local; dist/cluster.hpp derives the ranks of mpirun from it. Nothing here
// knows MPI.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace eqprop {

// An error every rank of a run agreed on (Processes::agree): each rank exits with `code`
// and only rank 0 prints the message, which names the rank the error came from.
struct RankError : std::runtime_error {
  RankError(const std::string& what, int code) : std::runtime_error(what), code(code) {}
  int code;
};

class Processes {
 public:
  Processes() = default;
  virtual ~Processes() = default;
  Processes(const Processes&) = delete;
  Processes& operator=(const Processes&) = delete;

  virtual int rank() const { return 0; }
  virtual int size() const { return 1; }
  bool root() const { return rank() == 0; }

  // Runs `step` on every process; if it throws on any, every process throws the same
  // RankError carrying the message of the lowest failing rank (prefixed with its number) and
  // its exit code (2 for InputError, else 1). One process: the error keeps its own type.
  virtual void agree(const std::function<void()>& step) const { step(); }
  // The largest of the processes' values, on every process.
  virtual long max(long value) const { return value; }
  // `bytes` of process `from` on every process.
  virtual void broadcast(std::string& bytes, int from) const { (void)bytes, (void)from; }
  // The first index at which this process's values differ from rank 0's, or -1.
  virtual int first_difference_from_root(const std::vector<std::uint64_t>& mine) const {
    (void)mine;
    return -1;
  }
  // Ends every process at once, for an error met outside agree(), when the others may be
  // waiting in a collective call. One process: returns.
  virtual void abort(int code) const { (void)code; }
};

// How many ranks a launcher asked for, from the variables Open MPI, MPICH and Slurm set; 1
// when none is set.
int launcher_ranks();

}  // namespace eqprop
