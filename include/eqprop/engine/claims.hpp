// Claims: work items of one parallel region that each belong to a thread (or to none), taken
// at most once. Each task runs its own thread's items, then the free ones, then, after a short
// patience, whatever another thread has not come for.
//
// Why: oneTBB maps tasks to threads as it likes, but the cores' caches reward the same thread
// touching the same memory every minibatch (W_1's rows, the minibatch's rows). Ownership here
// only orders the work; every item is the same arithmetic whoever runs it, so the bits never
// depend on it, and a thread that never comes only costs the patience.
#pragma once
#include <atomic>
#include <memory>
#include <vector>

namespace eqprop {

// Spins a moment, then yields the core: with more threads than cores (ranks x threads), the
// task waited on may need this core to run.
void pause_or_yield(int& spins);
// pause_or_yield calls a task waits for an item's owner before taking the item itself: a few
// tens of microseconds (256 pauses, then yields), more than the tasks of one region start
// apart when the threads are awake.
constexpr int kOwnerPatience = 320;

class Claims {
 public:
  // Items [0, owners.size()); owners[i]: the thread index whose task runs item i first, or -1.
  void assign(std::vector<int> owners);
  // Before each parallel region.
  void begin();
  int size() const { return static_cast<int>(owners_.size()); }
  int owner(int i) const { return owners_[i]; }
  bool take(int i) { return !taken_[i].exchange(true, std::memory_order_relaxed); }
  bool taken(int i) const { return taken_[i].load(std::memory_order_relaxed); }

  // The task of thread `me` (tbb::this_task_arena::current_thread_index()): body(i) for its
  // own items in order, then the free ones, then the others' (from the last) that are still
  // not taken after the patience. On return every item is taken (perhaps not finished).
  template <typename Body>
  void run(int me, Body&& body) {
    const int n = size();
    for (int i = 0; i < n; ++i)
      if (owners_[i] == me && take(i)) body(i);
    for (int i = 0; i < n; ++i)
      if (owners_[i] < 0 && take(i)) body(i);
    int spins = 0;
    for (int i = n - 1; i >= 0; --i) {
      while (!taken(i) && spins < kOwnerPatience) pause_or_yield(spins);
      if (take(i)) body(i);
    }
  }

 private:
  std::vector<int> owners_;
  std::unique_ptr<std::atomic<bool>[]> taken_;
};

}  // namespace eqprop
