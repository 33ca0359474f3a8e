// parallel_for_index(n, body): body(i) for i in [0, n), one oneTBB task per index. Every
// parallel loop of eqprop goes through it: the work is split by index, never by thread
// count, so results do not depend on --threads.
//
// Under ThreadSanitizer it also annotates the fork and the join. Debian's libtbb.so is not
// built with TSan, so TSan cannot see the synchronization oneTBB performs inside it when it
// starts tasks and when parallel_for returns; the annotations state exactly those two edges
// (the caller's writes happen before every task, every task happens before the return).
// In a normal build they compile to nothing.
#pragma once
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <cstddef>

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define EQPROP_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define EQPROP_TSAN_RELEASE(p) __tsan_release(p)
#else
#define EQPROP_TSAN_ACQUIRE(p) ((void)(p))
#define EQPROP_TSAN_RELEASE(p) ((void)(p))
#endif

namespace eqprop {

template <typename Body>
void parallel_for_index(std::size_t n, const Body& body) {
  char fork_join = 0;  // only its address is used: the TSan synchronization object
  EQPROP_TSAN_RELEASE(&fork_join);
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, n, 1),
      [&](const tbb::blocked_range<std::size_t>& r) {
        EQPROP_TSAN_ACQUIRE(&fork_join);
        for (std::size_t i = r.begin(); i != r.end(); ++i) body(i);
        EQPROP_TSAN_RELEASE(&fork_join);
      },
      tbb::simple_partitioner());
  EQPROP_TSAN_ACQUIRE(&fork_join);
}

}  // namespace eqprop
