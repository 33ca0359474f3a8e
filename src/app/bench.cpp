// The `bench` command: a fixed amount of training and evaluation on real MNIST, reported as
// 'key value' lines (samples/s, achieved GFLOP/s, a plain sgemm GFLOP/s for scale).
#include "eqprop/app/commands.hpp"
#include "eqprop/app/runtime.hpp"

#ifdef __linux__
#include <pthread.h>
#include <sched.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <thread>
#include <vector>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/blas_choice.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/app/run_data.hpp"
#include "eqprop/error.hpp"
#include "eqprop/ep/flops.hpp"
#include "eqprop/engine/trainer.hpp"

namespace eqprop {
namespace {
void line(std::ostream& out, const char* key, double v, const char* note = "") {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-26s %.6g%s%s", key, v, *note ? "  # " : "", note);
  out << buf << "\n";
}

// Aggregate rate of `threads` single-threaded n x n x n sgemms running at once (one per core:
// the machine's sgemm-rate limit for that many cores), best of `repeats`.
double sgemm_gflops(int n, int repeats, int threads) {
  blas_single_threaded();
  struct Operands {
    std::vector<float> a, b, c;
  };
  std::vector<Operands> ops(threads);
  for (auto& o : ops) {
    o.a.assign(std::size_t(n) * n, 0.5f);
    o.b.assign(std::size_t(n) * n, 0.25f);
    o.c.assign(std::size_t(n) * n, 0.f);
  }
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    // Plain std::threads, started before the clock and released together, so the products
    // really overlap (a task scheduler may run two short tasks one after the other).
    std::atomic<bool> go{false};
    std::vector<std::thread> pool;
    for (auto& o : ops)
      pool.emplace_back([&go, &o, n] {
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        gemm(Trans::No, Trans::No, n, n, n, 1.f, o.a.data(), n, o.b.data(), n, 0.f, o.c.data(), n);
      });
    const auto t0 = std::chrono::steady_clock::now();
    go.store(true, std::memory_order_release);
    for (auto& t : pool) t.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, threads * 2.0 * n * n * double(n) / s / 1e9);
  }
  return best;
}

// Median round trip of one cache line between two threads pinned to the first two CPUs this
// process may use (a store seen by the other thread, answered by its store), in ns; 0 when
// fewer than two CPUs are allowed. Why: the cost of every line the reducer and the chunk tasks
// hand between cores; on shared VMs it moves with where the hypervisor puts the vCPUs
// (docs/performance.md), and a two-thread run's speed-up follows it.
double core_round_trip_ns() {
#ifdef __linux__
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
  int cpus[2], found = 0;
  for (int c = 0; c < CPU_SETSIZE && found < 2; ++c)
    if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
  if (found < 2) return 0;
  constexpr long kTrips = 100000, kStop = -1;
  std::vector<double> ns;
  for (int r = 0; r < 5; ++r) {
    alignas(64) std::atomic<long> flag{0};
    auto pin = [](int cpu) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    };
    std::thread echo([&] {
      pin(cpus[1]);
      for (long i = 0;; ++i) {
        long seen;
        while ((seen = flag.load(std::memory_order_acquire)) != 2 * i + 1 && seen != kStop) {
        }
        if (seen == kStop) return;
        flag.store(2 * i + 2, std::memory_order_release);
      }
    });
    std::thread ping([&] {
      pin(cpus[0]);
      const auto t0 = std::chrono::steady_clock::now();
      double elapsed = 0;
      long done = 0;
      // At most kTrips, and at most 50 ms: a busy second CPU must not stall the bench.
      while (done < kTrips && elapsed < 0.05) {
        flag.store(2 * done + 1, std::memory_order_release);
        while (flag.load(std::memory_order_acquire) != 2 * done + 2) {
        }
        if (++done % 1024 == 0) elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      }
      ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / done);
      flag.store(kStop, std::memory_order_release);
    });
    ping.join();
    echo.join();
  }
  std::sort(ns.begin(), ns.end());
  return ns[ns.size() / 2];
#else
  return 0;
#endif
}

// The timed passes' figures: medians of three.
struct BenchFigures {
  int trained = 0;
  double train_rate = 0, eval_rate = 0, relax_share = 0, update_share = 0, serial_share = 0, input_units = 0;
  Trainer::RegionTimes relax, update;  // over the timed passes, per minibatch
};

BenchFigures measure(const Config& cfg, const Splits& data, Trainer& trainer) {
  // One untimed pass warms caches and each thread's workspace; then the median of three
  // timed passes, since a shared machine's speed drifts from second to second.
  trainer.train_epoch();
  const long nonzeros0 = trainer.input_nonzeros(), samples0 = trainer.input_samples();
  std::vector<EpochStats> runs;
  std::vector<double> serial;  // per pass: seconds outside the parallel regions over training seconds
  const Trainer::RegionTimes relax0 = trainer.relax_times(), update0 = trainer.update_times();
  for (int r = 0; r < 3; ++r) {
    const double s0 = trainer.serial_seconds();
    runs.push_back(trainer.train_epoch());
    serial.push_back((trainer.serial_seconds() - s0) / runs.back().train_seconds);
  }
  std::sort(serial.begin(), serial.end());
  auto median = [&](auto key) {
    std::vector<double> v;
    for (const auto& e : runs) v.push_back(key(e));
    std::sort(v.begin(), v.end());
    return v[1];
  };
  BenchFigures f;
  f.trained = (data.train.count / cfg.batch) * cfg.batch;
  f.train_rate = median([&](const EpochStats& e) { return f.trained / e.train_seconds; });
  f.eval_rate = median([&](const EpochStats& e) { return data.valid.count / e.valid_seconds; });
  f.relax_share = median([](const EpochStats& e) { return e.relax_seconds / e.train_seconds; });
  f.update_share = median([](const EpochStats& e) { return e.update_seconds / e.train_seconds; });
  f.serial_share = serial[1];
  const double minibatches = 3.0 * f.trained / cfg.batch;
  auto per_minibatch = [&](const Trainer::RegionTimes& now, const Trainer::RegionTimes& before) {
    return Trainer::RegionTimes{(now.wall - before.wall) / minibatches, (now.busy - before.busy) / minibatches,
                                (now.busiest - before.busiest) / minibatches};
  };
  f.relax = per_minibatch(trainer.relax_times(), relax0);
  f.update = per_minibatch(trainer.update_times(), update0);
  // The input products run over the nonzero inputs only: count what they computed.
  f.input_units = double(trainer.input_nonzeros() - nonzeros0) / double(trainer.input_samples() - samples0);
  return f;
}

void report(std::ostream& out, const Config& cfg, const Splits& data, const Trainer& trainer, const BenchFigures& f) {
  const int threads = cfg.threads, trained = f.trained;
  const double train_rate = f.train_rate, eval_rate = f.eval_rate, input_units = f.input_units;
  const double train_flops = train_flops_per_sample(cfg, input_units);
  const double dense_flops = train_flops_per_sample(cfg), eval_flops = eval_flops_per_sample(cfg, cfg.n_free);
  line(out, "threads", threads);
  line(out, "batch", cfg.batch);
  line(out, "chunk", trainer.train_chunk());
  line(out, "train_samples", trained);
  line(out, "train_samples_per_second", train_rate);
  line(out, "train_input_units", input_units, "mean nonzero inputs per sample (of all n_0)");
  line(out, "train_mflop_per_sample", train_flops / 1e6, "products computed, formula in include/eqprop/ep/flops.hpp");
  line(out, "train_gflops", train_rate * train_flops / 1e9, "from the products computed");
  line(out, "train_dense_mflop_per_sample", dense_flops / 1e6, "the algorithm's count, all n_0 inputs");
  line(out, "train_dense_gflops", train_rate * dense_flops / 1e9, "the work done per second, dense count");
  line(out, "train_relax_share", f.relax_share, "of training time in x W_1 and the free and nudged phases");
  line(out, "train_update_share", f.update_share, "of training time in the reducer");
  line(out, "train_serial_share", f.serial_share, "of training time outside the parallel regions (part of the two above)");
  // Where the threads' time goes in each region (tools/scaling compares thread counts).
  for (const auto& [name, t] : {std::pair<const char*, const Trainer::RegionTimes&>{"relax", f.relax}, {"update", f.update}}) {
    const std::string key = std::string("train_") + name;
    line(out, (key + "_region_us").c_str(), t.wall * 1e6, "per minibatch: the parallel region, fork to join");
    line(out, (key + "_busy_us").c_str(), t.busy * 1e6, "per minibatch: its tasks' time summed over the threads");
    line(out, (key + "_busiest_us").c_str(), t.busiest * 1e6, "per minibatch: the busiest thread's task time");
  }
  line(out, "eval_samples", data.valid.count);
  line(out, "eval_samples_per_second", eval_rate);
  line(out, "eval_gflops", eval_rate * eval_flops / 1e9);
  const double sgemm_one = sgemm_gflops(1024, 5, 1);
  line(out, "sgemm_gflops_one_thread", sgemm_one, "plain 1024^3 sgemm, best of 5");
  const double sgemm_all = threads > 1 ? sgemm_gflops(1024, 5, threads) : sgemm_one;
  line(out, "sgemm_gflops_all_threads", sgemm_all, "one such sgemm per thread at once, best of 5");
  line(out, "train_share_of_sgemm_limit", train_rate * dense_flops / 1e9 / sgemm_all,
       "dense-count GFLOP/s over the all-thread sgemm rate");
  if (threads > 1)
    line(out, "core_round_trip_ns", core_round_trip_ns(), "a cache line to another core and back, median of 5 (0: one CPU)");
}

}  // namespace

int run_bench(const Words& args, std::ostream& out, std::ostream&, const Runtime&) {
  TrainArgs a = parse_train_args(args, Command::Bench);
  if (a.help) return out << help_text(Command::Bench), 0;
  Config& cfg = a.cfg;
  if (a.dump_config) return out << format_config(cfg), 0;
  // The bench times evaluation on the validation split, which train-on-all does not have.
  if (cfg.train_on_all) throw ConfigError("config key 'train-on-all': bench needs the validation split; leave it false");
  const ThreadSetup thread_setup(cfg.threads);
  const Splits data = load_run_data(cfg, "");
  if (data.valid.count == 0) throw ConfigError("config key 'valid-count': bench times evaluation on the validation split; give one");
  Trainer trainer(cfg, data.train, data.valid);
  out << "# eqprop bench: layers";
  for (int n : cfg.layer_sizes()) out << ' ' << n;
  out << ", batch " << cfg.batch << ", chunk " << trainer.train_chunk() << ", eval-chunk " << cfg.eval_chunk
      << ", threads " << cfg.threads << ", steps " << cfg.n_free << "+" << cfg.n_nudged << " ("
      << to_string(cfg.nudging) << "), OpenBLAS " << blas_kernel_name() << " kernels\n";
  report(out, cfg, data, trainer, measure(cfg, data, trainer));
  return 0;
}

}  // namespace eqprop
