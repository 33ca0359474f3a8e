// The engine's work sharing by thread (claims.hpp) and the drive pipeline over owned rows of
// W_1 (drive_pipeline.hpp): every item runs exactly once and the drive has sparse_drive's bits
// whatever the number of threads, including fewer threads than owners (one thread must run
// every group itself, without deadlock) and more.
#include <doctest/doctest.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <cstring>
#include <random>
#include <vector>

#include "eqprop/engine/claims.hpp"
#include "eqprop/engine/drive_pipeline.hpp"
#include "eqprop/engine/parallel.hpp"
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
