// A minibatch's clamped drive x W_1 + b_1 on several threads, each reading only its own rows
// of W_1: the rows whose update the same thread makes in the reducer (update_owners()).
//
// Why: with the drive split by samples, every thread reads every used row of W_1 (1.6 MB in
// net1), half of them just written by the other core's update, so those lines cross between
// the cores twice a minibatch; tools/shared_lines measured two threads sharing W_1 that way
// at up to 2.5x the time of two threads on private copies (docs/performance.md).
//
// How: W_1's input units are cut into G groups of consecutive units, at the update's block
// boundaries. Each output sums group 0's terms from the bias, then group 1's from those sums,
// and so on: sparse_drive's own order, so the bits depend neither on G nor on who runs what
// (sparse_drive_part). Group g runs through the column blocks in order and starts block b once
// group g-1 has finished it, so group g+1 trails one block behind. Group g belongs to thread g
// (claims.hpp). A task waiting on a group nobody has taken runs that group itself after the
// owner's patience: a taken group is always being run by a live task that waits only on lower
// groups, so no schedule deadlocks (one thread alone runs every group in turn).
#pragma once
#include <atomic>
#include <memory>
#include <vector>

#include "eqprop/engine/claims.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/update.hpp"
#include "eqprop/kernels/sparse_input.hpp"

namespace eqprop {

class DrivePipeline {
 public:
  // Groups for `threads` threads (at most one per block of W_1's update; fewer than two: none)
  // over the update blocks of a dense layer 1 (blocks: update_blocks()).
  void configure(const std::vector<UpdateBlock>& blocks, int n1, int threads);
  bool active() const { return groups() >= 2; }
  int groups() const { return static_cast<int>(cuts_.size()) - 1; }
  // Per update block (of `blocks`): the group whose rows of W_1 it updates, or -1 (another
  // layer's): the owners of the reducer's Claims, so each thread updates the rows it read.
  const std::vector<int>& update_owners() const { return update_owners_; }

  // Before each minibatch's parallel region.
  void begin();
  // Every task of the region calls this with its thread index; on return every group of
  // rows [first, first + rows) of drive1 is finished (x: the minibatch's inputs, all set).
  void run(int thread, const SparseInput<float>& x, int first, int rows, const Network& net, float* drive1);

 private:
  struct alignas(64) Group {  // one cache line each: the groups' progress is polled across cores
    std::atomic<int> done{0};  // column blocks finished
  };
  void run_group(int g, const SparseInput<float>& x, int first, int rows, const Network& net, float* drive1);
  void wait_for(int g, int block, const SparseInput<float>& x, int first, int rows, const Network& net, float* drive1);

  std::vector<int> cuts_;  // group g: input units [cuts_[g], cuts_[g + 1])
  std::vector<int> update_owners_;
  int blocks_ = 0;  // column blocks of the drive (sparse_drive_blocks)
  Claims taken_;
  std::unique_ptr<Group[]> progress_;
};

}  // namespace eqprop
