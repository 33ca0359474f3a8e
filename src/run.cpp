#include "eqprop/run.hpp"

#include <tbb/global_control.h>
#include <tbb/info.h>

#include <algorithm>
#include <chrono>
#include <ostream>

#include "eqprop/cli.hpp"
#include "eqprop/dataset.hpp"
#include "eqprop/metrics.hpp"
#include "eqprop/trainer.hpp"

namespace eqprop {

void run_train(const Config& cfg, std::ostream& out) {
  using clock = std::chrono::steady_clock;
  // Open the outputs before the expensive part, so a bad path fails at once.
  MetricsFile metrics(cfg.metrics);
  const int threads = cfg.threads > 0 ? cfg.threads : tbb::info::default_concurrency();
  // The one TBB limit of the whole run; every parallel_for below respects it.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

  out << "# eqprop train: effective configuration\n" << format_config(cfg);
  out << "# threads " << threads << ", chunk " << std::min(cfg.chunk, cfg.batch) << " (training), " << cfg.eval_chunk
      << " (evaluation)\n";
  const auto t_load = clock::now();
  const Splits data = load_mnist(cfg.data, cfg.train_samples, cfg.valid_samples);
  out << "# data: " << data.train.count << " train, " << data.valid.count << " valid, " << data.test.count
      << " test examples from " << cfg.data << " ("
      << std::chrono::duration<double>(clock::now() - t_load).count() << " s)\n";

  Trainer trainer(cfg, data.train, data.valid);
  const int L = static_cast<int>(cfg.hidden.size()) + 1;
  out << epoch_header(L) << std::endl;
  for (int e = 0; e < cfg.epochs; ++e) {
    const EpochStats s = trainer.train_epoch();
    out << epoch_line(s, data.train.count) << std::endl;
    metrics.write(epoch_json(s, data.train.count));
  }
  const auto t_test = clock::now();
  const StateStats test = trainer.evaluate(data.test, cfg.test_steps, nullptr);
  const double test_seconds = std::chrono::duration<double>(clock::now() - t_test).count();
  out << "test error " << error_percent(test) << "% (" << test.count << " examples, free phase of "
      << cfg.test_steps << " steps from zero states, " << test_seconds << " s)" << std::endl;
  metrics.write(test_json(test, cfg.test_steps, test_seconds));
}

}  // namespace eqprop
