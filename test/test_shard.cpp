// Sharding over ranks (shard.hpp): the split of chunks, who keeps which particle, and the
// particle moves with the one-process cluster. The moves between real ranks are tested by
// tools/mpi_test under mpirun (meson test --suite mpi in an MPI build).
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "eqprop/dist/shard.hpp"

namespace {

std::vector<std::int32_t> shuffled(int n, unsigned seed) {
  std::vector<std::int32_t> v(n);
  std::iota(v.begin(), v.end(), 0);
  std::mt19937 g(seed);
  std::shuffle(v.begin(), v.end(), g);
  return v;
}

eqprop::Particles numbered(const std::vector<int>& sizes, int n) {
  eqprop::Particles p(sizes, n);
  float v = 0;
  for (std::size_t k = 1; k < sizes.size(); ++k)
    for (auto& x : p.h[k]) x = v++;
  return p;
}

}  // namespace

TEST_CASE("share_of splits n items into contiguous runs, one per rank, sizes within one") {
  for (int n = 0; n <= 13; ++n) {
    for (int ranks = 1; ranks <= 5; ++ranks) {
      int next = 0, lo = n, hi = 0;
      for (int r = 0; r < ranks; ++r) {
        const eqprop::Share s = eqprop::share_of(n, ranks, r);
        CHECK(s.first == next);
        next += s.count;
        lo = std::min(lo, s.count);
        hi = std::max(hi, s.count);
      }
      CHECK(next == n);
      CHECK(hi - lo <= 1);
    }
  }
}

TEST_CASE("a training particle lives on the rank that relaxes its slot of the minibatch") {
  const int n = 1003, batch = 20, chunk = 3;  // 7 chunks, the last of 2 rows; a partial last minibatch
  const auto order = shuffled(n, 4);
  for (int ranks = 1; ranks <= 4; ++ranks) {
    const eqprop::ShardMap m = eqprop::ShardMap::by_slot(order, batch, chunk, ranks);
    REQUIRE(m.owner.size() == std::size_t(n));
    for (int p = 0; p < n; ++p) {
      const int c = (p % batch) / chunk;
      const eqprop::Share s = eqprop::share_of((batch + chunk - 1) / chunk, ranks, m.owner[order[p]]);
      CHECK((c >= s.first && c < s.first + s.count));
    }
    // Rows are numbered per rank in increasing example order.
    std::vector<int> next(ranks, 0);
    for (int e = 0; e < n; ++e) CHECK(m.local[e] == next[m.owner[e]]++);
    CHECK(next == m.counts);
    if (ranks == 1)
      for (int e = 0; e < n; ++e) CHECK(m.local[e] == e);  // one process: the rows are the examples
  }
}

TEST_CASE("a validation particle lives on the rank of its evaluation chunk, in one block") {
  const eqprop::ShardMap m = eqprop::ShardMap::by_chunk(1000, 250, 3);  // chunks 0 | 1 | 2 3
  CHECK(m.counts == std::vector<int>{250, 250, 500});
  CHECK(m.owner[249] == 0);
  CHECK(m.owner[250] == 1);
  CHECK(m.owner[999] == 2);
  CHECK(m.local[500] == 0);
  CHECK(m.local[999] == 499);
}

TEST_CASE("with one process, scatter, gather and a move keep every particle where it was") {
  const std::vector<int> sizes{784, 7, 3};
  const auto order = shuffled(101, 2);
  const eqprop::Cluster one;  // one process: no MPI call
  const eqprop::ShardMap a = eqprop::ShardMap::by_slot(order, 10, 5, 1);
  const eqprop::ShardMap b = eqprop::ShardMap::by_slot(shuffled(101, 3), 10, 5, 1);
  const eqprop::Particles full = numbered(sizes, 101);
  CHECK(eqprop::scatter_particles(one, a, sizes, full).h == full.h);
  CHECK(eqprop::gather_particles(one, a, sizes, full).h == full.h);
  CHECK(eqprop::move_particles(one, a, b, sizes, full).h == full.h);
}
