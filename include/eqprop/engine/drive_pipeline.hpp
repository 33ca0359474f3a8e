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
// (sparse_drive_part). The minibatch's rows are cut into parts (the rows each thread relaxes)
// and the work into pieces, one per column block and part, blocks in order and parts in order
// within a block. Group g starts a piece once group g-1 has finished it, so group g+1 trails
// one piece behind, and a part's rows are whole once the last group has finished that part's
// piece of the last block: a thread waits for its own rows only, not for the whole minibatch,
// and the last group's thread, whose part comes last, waits for nothing.
//
// Group g belongs to thread g (claims.hpp). A task waiting on a group nobody has taken runs
// that group itself after the owner's patience: a taken group is always being run by a live
// task that waits only on lower groups, so no schedule deadlocks (one thread alone runs every
// group in turn).
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

  // Before each minibatch's parallel region: the drive of rows [part_ends[0], part_ends.back())
  // of drive1 from the inputs x (all set before any task calls run), cut into parts
  // [part_ends[p], part_ends[p + 1]). The arguments must outlive the region.
  void begin(const SparseInput<float>& x, const Network& net, float* drive1, const std::vector<int>& part_ends);
  // Every task of the region calls this with its thread index: it runs the groups it takes.
  // On return every group is taken, perhaps not finished.
  void run(int thread);
  // Returns once the rows of part p are whole (any task, after its run()).
  void wait_part(int p);

 private:
  struct alignas(64) Group {  // one cache line each: the groups' progress is polled across cores
    std::atomic<int> done{0};  // pieces finished
  };
  int parts() const { return static_cast<int>(part_ends_->size()) - 1; }
  void run_group(int g);
  // Returns once group g has finished piece `piece` (block * parts() + part).
  void wait_for(int g, int piece);

  std::vector<int> cuts_;  // group g: input units [cuts_[g], cuts_[g + 1])
  std::vector<int> update_owners_;
  int blocks_ = 0;  // column blocks of the drive (sparse_drive_blocks)
  Claims taken_;
  std::unique_ptr<Group[]> progress_;
  // The current region's drive (begin()).
  const SparseInput<float>* x_ = nullptr;
  const Network* net_ = nullptr;
  float* drive1_ = nullptr;
  const std::vector<int>* part_ends_ = nullptr;
};

}  // namespace eqprop
