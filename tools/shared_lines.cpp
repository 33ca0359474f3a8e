// What two threads cost each other when they share W_1, apart from eqprop's engine: each
// thread runs net1's layer-1 pattern on MNIST chunks of 10 images (the drive x W_1 over a
// chunk's nonzero pixels in 64-column blocks, then an update of the used rows of W_1), five
// ways, rounds interleaved:
//   alone    one thread on its own copy of W_1;
//   private  two threads at once, each on its own copy (cores, caches and memory shared by
//            the machine, no line of W_1 shared);
//   shared   two threads in lockstep on one W_1, as a minibatch runs: each drives its own
//            chunk, then each updates its half of W_1's rows (below and above the middle
//            pixel, as the reducer's row blocks) for both chunks: the same work per thread,
//            but rows written on one core are read on the other in the next drive;
//   rows     as shared, but each thread's half of the rows is its own in the drive as well
//            (run_rows: the drive's sums handed from one thread's rows to the other's);
//   pipe     as rows, handed over per 64-column block instead of per chunk (run_pipe), as
//            the engine's DrivePipeline does.
// Prints microseconds per chunk (per thread). docs/performance.md: the two-thread inflation.
//   tools/shared_lines [MNIST_DIR] [ROUNDS]   (builds this file with g++ into /tmp and runs it)
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {
constexpr int kN0 = 784, kN1 = 500, kRows = 10, kChunks = 400;
typedef float Vec __attribute__((vector_size(32)));
typedef float Unaligned __attribute__((vector_size(32), aligned(4)));

struct Chunk {
  std::vector<int> unit[kRows];
  std::vector<float> value[kRows];
};

// Columns [c0, c0 + 64) of drive().
void drive_block(const Chunk& c, const float* W, const float* init, float* out, int u0, int u1, int c0) {
  for (int i = 0; i < kRows; ++i) {
    Vec acc[8];
    std::memcpy(acc, init + i * kN1 + c0, sizeof acc);
    for (std::size_t e = 0; e < c.unit[i].size(); ++e) {
      const int u = c.unit[i][e];
      if (u < u0) continue;
      if (u >= u1) break;
      const Unaligned* w = reinterpret_cast<const Unaligned*>(W + std::size_t(u) * kN1 + c0);
      const float v = c.value[i][e];
      for (int p = 0; p < 8; ++p) acc[p] += v * w[p];
    }
    std::memcpy(out + i * kN1 + c0, acc, sizeof acc);
  }
}

// out [kRows x kN1] = init + x W over the nonzeros of units in [u0, u1), in unit order, eight
// vector sums in registers per 64 columns (init: the bias, or the sums over the units before u0).
void drive(const Chunk& c, const float* W, const float* init, float* out, int u0, int u1) {
  for (int c0 = 0; c0 + 64 <= kN1; c0 += 64) drive_block(c, W, init, out, u0, u1, c0);
}

// W row u += 1e-9 out[i] for each nonzero (i, u) of the chunk with u in [u0, u1).
void update(const Chunk& c, float* W, const float* out, int u0, int u1) {
  for (int i = 0; i < kRows; ++i)
    for (int u : c.unit[i]) {
      if (u < u0 || u >= u1) continue;
      float* w = W + std::size_t(u) * kN1;
      for (int j = 0; j < kN1; ++j) w[j] += 1e-9f * out[i * kN1 + j];
    }
}

void pin(int cpu) {
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  pthread_setaffinity_np(pthread_self(), sizeof s, &s);
}

// Both threads wait here twice per chunk (null: a thread on its own).
struct Barrier {
  std::atomic<int> arrived{0};
  void wait(int& passes) {
    ++passes;
    arrived.fetch_add(1);
    while (arrived.load() < 2 * passes) {
    }
  }
};

const std::vector<float> kBias(kRows * kN1, 0.01f);

double run(const std::vector<Chunk>& chunks, float* W, int first, int n) {
  std::vector<float> out(kRows * kN1);
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < n; ++k) {
    const Chunk& c = chunks[(first + 2 * k) % chunks.size()];
    drive(c, W, kBias.data(), out.data(), 0, kN0);
    update(c, W, out.data(), 0, kN0);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / n * 1e6;
}

// Thread `me` of two on one W: the same work as run()'s, but the update split by rows: each
// thread updates its half of the rows for both threads' chunks (out: both threads' outputs).
double run_shared(const std::vector<Chunk>& chunks, float* W, int me, int n, float* out, Barrier& barrier) {
  int passes = 0;
  const int u0 = me == 0 ? 0 : kN0 / 2, u1 = me == 0 ? kN0 / 2 : kN0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < n; ++k) {
    drive(chunks[(me + 2 * k) % chunks.size()], W, kBias.data(), out + me * kRows * kN1, 0, kN0);
    barrier.wait(passes);
    for (int c = 0; c < 2; ++c) update(chunks[(c + 2 * k) % chunks.size()], W, out + c * kRows * kN1, u0, u1);
    barrier.wait(passes);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / n * 1e6;
}
// As run_shared, but thread `me` owns its half of W_1's rows in the drive too: the drive of a
// chunk runs over thread 0's rows, then continues from those sums over thread 1's rows (the
// same additions in the same order), in three steps: thread 0 chunk 0 | thread 0 chunk 1 and
// thread 1 chunk 0 | thread 1 chunk 1. Only the partial sums move between the cores.
double run_rows(const std::vector<Chunk>& chunks, float* W, int me, int n, float* out, float* partial, Barrier& barrier) {
  int passes = 0;
  const int u0 = me == 0 ? 0 : kN0 / 2, u1 = me == 0 ? kN0 / 2 : kN0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < n; ++k) {
    for (int step = 0; step < 3; ++step) {
      const int c = step - me;  // the chunk this thread drives in this step
      if (c >= 0 && c < 2) {
        const Chunk& chunk = chunks[(c + 2 * k) % chunks.size()];
        float* sums = partial + c * kRows * kN1;
        if (me == 0) drive(chunk, W, kBias.data(), sums, u0, u1);
        else drive(chunk, W, sums, out + c * kRows * kN1, u0, u1);
      }
      barrier.wait(passes);
    }
    for (int c = 0; c < 2; ++c) update(chunks[(c + 2 * k) % chunks.size()], W, out + c * kRows * kN1, u0, u1);
    barrier.wait(passes);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / n * 1e6;
}
// As run_rows, but pipelined finely: items are (64-column block, chunk) in that order; thread
// 0 drives its rows' part of each item and counts it done, thread 1 continues each item from
// those sums over its rows as soon as the count passes it. Thread 1 lags one item.
double run_pipe(const std::vector<Chunk>& chunks, float* W, int me, int n, float* out, float* partial,
                std::atomic<int>& done, Barrier& barrier) {
  int passes = 0;
  const int u0 = me == 0 ? 0 : kN0 / 2, u1 = me == 0 ? kN0 / 2 : kN0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < n; ++k) {
    int item = 0;
    for (int c0 = 0; c0 + 64 <= kN1; c0 += 64)
      for (int c = 0; c < 2; ++c, ++item) {
        const Chunk& chunk = chunks[(c + 2 * k) % chunks.size()];
        float* sums = partial + c * kRows * kN1;
        if (me == 0) {
          drive_block(chunk, W, kBias.data(), sums, u0, u1, c0);
          done.store(k * 64 + item + 1, std::memory_order_release);
        } else {
          while (done.load(std::memory_order_acquire) <= k * 64 + item) {
          }
          drive_block(chunk, W, sums, out + c * kRows * kN1, u0, u1, c0);
        }
      }
    barrier.wait(passes);
    for (int c = 0; c < 2; ++c) update(chunks[(c + 2 * k) % chunks.size()], W, out + c * kRows * kN1, u0, u1);
    barrier.wait(passes);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / n * 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "data/mnist";
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::ifstream f(dir + "/train-images-idx3-ubyte", std::ios::binary);
  std::vector<unsigned char> img(16 + std::size_t(kChunks) * kRows * kN0);
  if (!f.read(reinterpret_cast<char*>(img.data()), std::streamsize(img.size()))) {
    std::fprintf(stderr, "shared_lines: cannot read %s/train-images-idx3-ubyte (tools/fetch_mnist.sh)\n", dir.c_str());
    return 2;
  }
  std::vector<Chunk> chunks(kChunks);
  for (int k = 0; k < kChunks; ++k)
    for (int i = 0; i < kRows; ++i) {
      const unsigned char* p = img.data() + 16 + (std::size_t(k) * kRows + i) * kN0;
      for (int u = 0; u < kN0; ++u)
        if (p[u]) chunks[k].unit[i].push_back(u), chunks[k].value[i].push_back(p[u] / 255.f);
    }
  std::vector<float> W1(std::size_t(kN0) * kN1), W2;
  std::mt19937 g(1);
  std::uniform_real_distribution<float> d(-0.05f, 0.05f);
  for (float& w : W1) w = d(g);
  W2 = W1;
  const int n = 2000;
  std::printf("us per chunk of %d images (drive and update), per thread\n%8s %8s %8s %8s %8s %8s\n", kRows, "round",
              "alone", "private", "shared", "rows", "pipe");
  for (int r = 1; r <= rounds; ++r) {
    pin(0);
    const double alone = run(chunks, W1.data(), 0, n);
    double t[2];
    std::thread a([&] { pin(1); t[1] = run(chunks, W2.data(), 1, n); });
    t[0] = run(chunks, W1.data(), 0, n);
    a.join();
    const double both_private = (t[0] + t[1]) / 2;
    Barrier barrier;
    std::vector<float> out(2 * kRows * kN1);
    std::thread b([&] { pin(1); t[1] = run_shared(chunks, W1.data(), 1, n, out.data(), barrier); });
    t[0] = run_shared(chunks, W1.data(), 0, n, out.data(), barrier);
    b.join();
    const double shared = (t[0] + t[1]) / 2;
    Barrier barrier2;
    std::vector<float> partial(2 * kRows * kN1);
    std::thread c([&] { pin(1); t[1] = run_rows(chunks, W1.data(), 1, n, out.data(), partial.data(), barrier2); });
    t[0] = run_rows(chunks, W1.data(), 0, n, out.data(), partial.data(), barrier2);
    c.join();
    const double rows = (t[0] + t[1]) / 2;
    Barrier barrier3;
    std::atomic<int> done{0};
    std::thread e([&] { pin(1); t[1] = run_pipe(chunks, W1.data(), 1, n, out.data(), partial.data(), done, barrier3); });
    t[0] = run_pipe(chunks, W1.data(), 0, n, out.data(), partial.data(), done, barrier3);
    e.join();
    std::printf("%8d %8.1f %8.1f %8.1f %8.1f %8.1f\n", r, alone, both_private, shared, rows, (t[0] + t[1]) / 2);
  }
  return 0;
}
