// The engine's work sharing by thread (claims.hpp) and the drive pipeline over owned rows of
// W_1 (drive_pipeline.hpp): every item runs exactly once and the drive has sparse_drive's bits
// whatever the number of threads, including fewer threads than owners (one thread must run
// every group itself, without deadlock) and more.
#include <doctest/doctest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "eqprop/engine/claims.hpp"
#include "eqprop/engine/drive_pipeline.hpp"
#include "eqprop/engine/parallel.hpp"
#include "eqprop/ep/input_layer.hpp"
#include "eqprop/ep/update.hpp"

namespace {

// MNIST-like inputs: n0 units, about a fifth nonzero, row 1 blank.
eqprop::SparseInput<float> some_inputs(int rows, int n0, std::mt19937_64& g) {
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> x(std::size_t(rows) * n0, 0.f);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < n0; ++j)
      if (i != 1 && u(g) < 0.2f) x[std::size_t(i) * n0 + j] = u(g);
  eqprop::SparseInput<float> in;
  in.assign(x.data(), rows, n0);
  return in;
}

}  // namespace

TEST_CASE("claims: every item runs once, owners first, for any number of threads and tasks") {
  for (int threads : {1, 2, 3, 5}) {
    for (int tasks : {1, 2, 4}) {
      CAPTURE(threads);
      CAPTURE(tasks);
      // Items owned by threads 0..3 and some by none.
      std::vector<int> owners = {0, 1, -1, 2, 3, 0, -1, 1};
      eqprop::Claims claims;
      claims.assign(owners);
      for (int round = 0; round < 3; ++round) {
        claims.begin();
        std::vector<std::atomic<int>> runs(owners.size());
        tbb::task_arena arena(threads);
        arena.execute([&] {
          eqprop::parallel_for_index(std::size_t(tasks), [&](std::size_t) {
            claims.run(tbb::this_task_arena::current_thread_index(), [&](int i) { runs[i].fetch_add(1); });
          });
        });
        for (std::size_t i = 0; i < owners.size(); ++i) CHECK(runs[i].load() == 1);
      }
    }
  }
}

TEST_CASE("claims: a task whose thread owns nothing still runs the items nobody came for") {
  eqprop::Claims claims;
  claims.assign({1, 1, 2});
  claims.begin();
  std::vector<int> order;
  claims.run(0, [&](int i) { order.push_back(i); });
  CHECK(order == std::vector<int>{2, 1, 0});  // the others' items from the last
}

TEST_CASE("the drive pipeline gives sparse_drive's bits for any groups and threads") {
  std::mt19937_64 g(11);
  const int n0 = 784, n1 = 150, B = 20;
  eqprop::Network net;
  net.sizes = {n0, n1, 10};
  net.W.resize(3);
  net.b.resize(3);
  std::normal_distribution<float> nd(0.f, 0.1f);
  for (int k = 1; k < 3; ++k) {
    net.W[k].resize(std::size_t(net.sizes[k - 1]) * net.sizes[k]);
    net.b[k].resize(net.sizes[k]);
    for (float& v : net.W[k]) v = nd(g);
    for (float& v : net.b[k]) v = nd(g);
  }
  net.b[0].assign(n0, 0.f);
  const auto blocks = eqprop::update_blocks(net.sizes);
  const auto x = some_inputs(B, n0, g);
  std::vector<float> whole(std::size_t(B) * n1);
  eqprop::sparse_drive(x, 0, B, net.W[1].data(), net.b[1].data(), n1, whole.data());
  int w1_blocks = 0;
  for (const auto& b : blocks) w1_blocks += b.k == 1 && b.m > 0;
  REQUIRE(w1_blocks >= 4);
  for (int groups : {2, 3, w1_blocks}) {
    eqprop::DrivePipeline pipeline;
    pipeline.configure(blocks, n1, groups);
    REQUIRE(pipeline.groups() == groups);
    // The groups own W_1's blocks in row order; the other layers' blocks belong to no one.
    int last = 0, owned = 0;
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const int o = pipeline.update_owners()[i];
      if (blocks[i].k != 1 || blocks[i].m == 0) {
        CHECK(o == -1);
        continue;
      }
      CHECK(o >= last);
      last = o;
      ++owned;
    }
    CHECK(last == groups - 1);
    CHECK(owned == w1_blocks);
    // Rows 2 to 17 of 20, the rest left alone (an MPI rank's share of the minibatch), in one
    // part, two, or three uneven ones with an empty one (a thread without chunks).
    const std::vector<std::vector<int>> cuttings = {{2, 18}, {2, 10, 18}, {2, 3, 3, 11, 18}};
    for (const std::vector<int>& parts : cuttings) {
      for (int threads : {1, 2, 4}) {
        CAPTURE(groups);
        CAPTURE(threads);
        CAPTURE(parts.size());
        for (int round = 0; round < 2; ++round) {
          std::vector<float> drive(std::size_t(B) * n1, -5.f);
          pipeline.begin(x, net, drive.data(), parts);
          std::atomic<int> torn{0};
          tbb::task_arena arena(threads);
          arena.execute([&] {
            eqprop::parallel_for_index(std::size_t(groups), [&](std::size_t t) {
              pipeline.run(tbb::this_task_arena::current_thread_index());
              // Each part's rows are whole once wait_part returns, whichever part a task
              // waits for first (the others may still be in progress).
              const int P = static_cast<int>(parts.size()) - 1;
              for (int q = 0; q < P; ++q) {
                const int p = (q + static_cast<int>(t)) % P;
                pipeline.wait_part(p);
                const std::size_t at = std::size_t(parts[p]) * n1, n = std::size_t(parts[p + 1] - parts[p]) * n1;
                if (std::memcmp(drive.data() + at, whole.data() + at, n * sizeof(float)) != 0) ++torn;
              }
            });
          });
          CHECK(torn == 0);
          CHECK(std::memcmp(drive.data() + 2 * n1, whole.data() + 2 * n1, 16 * n1 * sizeof(float)) == 0);
          CHECK(drive[0] == -5.f);
          CHECK(drive[std::size_t(B) * n1 - 1] == -5.f);
        }
      }
    }
  }
  eqprop::DrivePipeline one;
  one.configure(blocks, n1, 1);
  CHECK_FALSE(one.active());
}

TEST_CASE("W_1's blocks of equal work: a valid cut, balanced, and the update's bits unchanged") {
  const std::vector<int> sizes = {784, 150, 10};
  const auto uniform = eqprop::update_blocks(sizes);
  auto w1_blocks = [](const std::vector<eqprop::UpdateBlock>& blocks) {
    std::vector<eqprop::UpdateBlock> w1;
    for (const auto& b : blocks)
      if (b.k == 1 && b.m > 0) w1.push_back(b);
    return w1;
  };
  const std::size_t count = w1_blocks(uniform).size();
  REQUIRE(count >= 4);
  // MNIST-like weights (the lower half heavier), one unit holding everything at either end,
  // and all zero (then the even cut).
  std::vector<double> mnist(784);
  for (int u = 0; u < 784; ++u) mnist[u] = (u / 28 > 4 && u / 28 < 24) ? 10.0 + u / 28 : 0.0;
  std::vector<double> first(784, 0.0), last(784, 0.0), none(784, 0.0);
  first[0] = 1.0;
  last[783] = 1.0;
  for (const auto* weights : {&mnist, &first, &last, &none}) {
    const auto blocks = eqprop::update_blocks(sizes, {}, {}, *weights);
    // The other layers' blocks as without weights.
    REQUIRE(blocks.size() == uniform.size());
    for (std::size_t i = 0; i < blocks.size(); ++i)
      if (blocks[i].k != 1) CHECK((blocks[i].r0 == uniform[i].r0 && blocks[i].m == uniform[i].m));
    const auto w1 = w1_blocks(blocks);
    REQUIRE(w1.size() == count);
    double total = 0, largest = 0;
    for (double w : *weights) total += w, largest = std::max(largest, w);
    int next = 0;
    for (const auto& b : w1) {
      CHECK(b.r0 == next);  // consecutive, each at least one row, all 784 rows
      CHECK(b.m >= 1);
      next = b.r0 + b.m;
      double share = 0;
      for (int u = b.r0; u < b.r0 + b.m; ++u) share += (*weights)[u];
      // Every block within one unit's weight of an equal share (a block's rows are whole).
      if (weights == &mnist) CHECK(std::abs(share - total / count) <= largest + 1e-9);
    }
    CHECK(next == 784);
    if (weights == &none)
      for (std::size_t i = 0; i < w1.size(); ++i) CHECK((w1[i].r0 == w1_blocks(uniform)[i].r0 && w1[i].m == w1_blocks(uniform)[i].m));
  }
  // The same update, bit for bit, with either cut: W_1's update is element by element (here
  // with weight decay and momentum, whose terms are per element too).
  std::mt19937_64 g(5);
  std::normal_distribution<float> nd(0.f, 0.1f);
  std::uniform_real_distribution<float> u01(0.f, 1.f);
  eqprop::Network net;
  net.sizes = sizes;
  net.W.resize(3);
  net.b.resize(3);
  for (int k = 1; k < 3; ++k) {
    net.W[k].resize(std::size_t(sizes[k - 1]) * sizes[k]);
    net.b[k].resize(sizes[k]);
    for (float& v : net.W[k]) v = nd(g);
    for (float& v : net.b[k]) v = nd(g);
  }
  net.b[0].assign(784, 0.f);
  const int B = 20;
  const auto x = some_inputs(B, 784, g);
  eqprop::LayerStates<float> a(sizes, B), b(sizes, B);
  for (int k = 1; k < 3; ++k) {
    for (float& v : a.h[k]) v = u01(g);
    for (float& v : b.h[k]) v = u01(g);
  }
  std::vector<float> diff1(std::size_t(B) * sizes[1]);
  eqprop::layer1_difference(a, b, 0, B, diff1.data());
  const std::vector<float> alphas = {0.1f, 0.05f};
  for (const bool momentum : {false, true}) {
    CAPTURE(momentum);
    eqprop::Network even = net, weighted = net, v_even = net, v_weighted = net;
    for (auto* v : {&v_even, &v_weighted}) {
      for (auto& w : v->W) std::fill(w.begin(), w.end(), 0.01f);
      for (auto& c : v->b) std::fill(c.begin(), c.end(), 0.f);
    }
    for (int step = 0; step < 2; ++step) {
      eqprop::ep_update(even, uniform, x, a, b, B, alphas, 0.5f, diff1.data(), 1e-3f, momentum ? &v_even : nullptr,
                        0.9f);
      eqprop::ep_update(weighted, eqprop::update_blocks(sizes, {}, {}, mnist), x, a, b, B, alphas, 0.5f, diff1.data(),
                        1e-3f, momentum ? &v_weighted : nullptr, 0.9f);
    }
    for (int k = 1; k < 3; ++k) {
      CHECK(std::memcmp(even.W[k].data(), weighted.W[k].data(), even.W[k].size() * sizeof(float)) == 0);
      CHECK(std::memcmp(even.b[k].data(), weighted.b[k].data(), even.b[k].size() * sizeof(float)) == 0);
    }
    CHECK(even.W[1] != net.W[1]);  // the update did change W_1
  }
}
