#include "eqprop/bench.hpp"

#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ostream>

#include "eqprop/blas.hpp"
#include "eqprop/dataset.hpp"
#include "eqprop/flops.hpp"
#include "eqprop/trainer.hpp"

namespace eqprop {
namespace {
void line(std::ostream& out, const char* key, double v, const char* note = "") {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-26s %.6g%s%s", key, v, *note ? "  # " : "", note);
  out << buf << "\n";
}
}  // namespace

double sgemm_gflops(int n, int repeats) {
  blas_single_threaded();
  std::vector<float> a(std::size_t(n) * n, 0.5f), b(std::size_t(n) * n, 0.25f), c(std::size_t(n) * n);
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    gemm(Trans::No, Trans::No, n, n, n, 1.f, a.data(), n, b.data(), n, 0.f, c.data(), n);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * n * n * double(n) / s / 1e9);
  }
  return best;
}

void run_bench(const Config& cfg, std::ostream& out) {
  check_memory(cfg);
  const int threads = cfg.threads;
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  const Splits data = load_mnist(cfg.data, cfg.train_samples, cfg.valid_samples);
  Trainer trainer(cfg, data.train, data.valid);
  out << "# eqprop bench: layers";
  for (int n : cfg.layer_sizes()) out << ' ' << n;
  out << ", batch " << cfg.batch << ", chunk " << trainer.train_chunk() << ", eval-chunk " << cfg.eval_chunk
      << ", threads " << threads << ", steps " << cfg.n_free << "+" << cfg.n_nudged << " ("
      << to_string(cfg.nudging) << ")\n";
  // One untimed pass warms caches and each thread's workspace; then the median of three
  // timed passes, since a shared machine's speed drifts from second to second.
  trainer.train_epoch();
  const double units0 = trainer.span_units();
  const long mbs0 = trainer.span_minibatches();
  std::vector<EpochStats> runs;
  for (int r = 0; r < 3; ++r) runs.push_back(trainer.train_epoch());
  auto median = [&](auto key) {
    std::vector<double> v;
    for (const auto& e : runs) v.push_back(key(e));
    std::sort(v.begin(), v.end());
    return v[1];
  };
  const int trained = (data.train.count / cfg.batch) * cfg.batch;
  const double train_rate = median([&](const EpochStats& e) { return trained / e.train_seconds; });
  const double eval_rate = median([&](const EpochStats& e) { return data.valid.count / e.valid_seconds; });
  const double relax_share = median([](const EpochStats& e) { return e.relax_seconds / e.train_seconds; });
  const double update_share = median([](const EpochStats& e) { return e.update_seconds / e.train_seconds; });
  // The products skip input units that are 0 in a whole minibatch: count what they computed.
  const double input_units = (trainer.span_units() - units0) / double(trainer.span_minibatches() - mbs0);
  const double train_flops = train_flops_per_sample(cfg, input_units);
  const double dense_flops = train_flops_per_sample(cfg), eval_flops = eval_flops_per_sample(cfg, cfg.n_free);
  line(out, "threads", threads);
  line(out, "batch", cfg.batch);
  line(out, "chunk", trainer.train_chunk());
  line(out, "train_samples", trained);
  line(out, "train_samples_per_second", train_rate);
  line(out, "train_input_units", input_units, "mean width of the minibatches' nonzero input span (of 784)");
  line(out, "train_mflop_per_sample", train_flops / 1e6, "products computed, formula in include/eqprop/flops.hpp");
  line(out, "train_gflops", train_rate * train_flops / 1e9, "from the products computed");
  line(out, "train_dense_mflop_per_sample", dense_flops / 1e6, "the same with all 784 input units");
  line(out, "train_relax_share", relax_share, "of training time in x W_1 and the free and nudged phases");
  line(out, "train_update_share", update_share, "of training time in the reducer");
  line(out, "eval_samples", data.valid.count);
  line(out, "eval_samples_per_second", eval_rate);
  line(out, "eval_gflops", eval_rate * eval_flops / 1e9);
  line(out, "sgemm_gflops_one_thread", sgemm_gflops(1024, 5), "plain 1024^3 sgemm, best of 5");
}

}  // namespace eqprop
