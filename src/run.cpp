// The `train` command: configuration (with --resume layering), data, the epoch loop with
// progress, checkpoints and stop requests, and the final test evaluation.
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>

#include "eqprop/checkpoint.hpp"
#include "eqprop/cli.hpp"
#include "eqprop/commands.hpp"
#include "eqprop/dataset.hpp"
#include "eqprop/metrics.hpp"
#include "eqprop/progress.hpp"
#include "eqprop/stop_signals.hpp"
#include "eqprop/trainer.hpp"

namespace eqprop {

int run_train(const Words& args, std::ostream& out, std::ostream& err) {
  using clock = std::chrono::steady_clock;
  TrainArgs a = parse_train_args(args, Command::Train, nullptr, /*validate=*/false);
  if (a.help) {
    out << help_text(Command::Train);
    return 0;
  }
  // A resumed run: the checkpoint's configuration is the base the file and command line override.
  std::optional<TrainState> resumed;
  CheckpointInfo info;
  if (!a.cfg.resume.empty()) {
    resumed = load_checkpoint(a.cfg.resume, &info);
    const std::string from = a.cfg.resume;
    a = parse_train_args(args, Command::Train, &resumed->cfg);
    a.cfg.resume = from;
  } else {
    a = parse_train_args(args, Command::Train);
  }
  const Config& cfg = a.cfg;
  if (a.dump_config) {
    out << format_config(cfg);
    return 0;
  }
  // Everything that can fail cheaply fails before the data is loaded and training starts.
  if (resumed) check_resume_architecture(*resumed, cfg);
  check_memory(cfg);
  if (!cfg.checkpoint.empty()) check_checkpoint_writable(cfg.checkpoint);
  MetricsFile metrics(cfg.metrics, /*append=*/resumed.has_value());
  const int threads = cfg.threads;
  // The one TBB limit of the whole run; every parallel_for below respects it.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

  out << "# eqprop train: effective configuration\n" << format_config(cfg);
  out << "# threads " << threads << ", chunk " << std::min(cfg.chunk, cfg.batch) << " (training), " << cfg.eval_chunk
      << " (evaluation)\n";
  const auto t_load = clock::now();
  const Splits data = load_splits(cfg);
  out << "# data: " << data.train.count << " train, " << data.valid.count << " valid, " << data.test.count
      << " test examples from " << cfg.data << " ("
      << std::chrono::duration<double>(clock::now() - t_load).count() << " s)\n";

  std::optional<Trainer> trainer;
  if (resumed) {
    resumed->cfg = cfg;
    const TrainState& st = *resumed;
    out << "# resumed from " << cfg.resume << ": " << st.epochs_done << " epochs done"
        << (st.in_epoch ? ", epoch " + std::to_string(st.epochs_done + 1) + " at sample " + std::to_string(st.cursor)
                        : std::string())
        << (info.has_particles ? "; particles restored" : "; model-only checkpoint: particles restart from zero")
        << "\n";
    trainer.emplace(std::move(*resumed), data.train, data.valid);
    resumed.reset();
  } else {
    trainer.emplace(cfg, data.train, data.valid);
  }

  StopSignals signals;
  ProgressLine progress(err, cfg.progress, isatty(STDERR_FILENO) != 0);
  long minibatches = 0;  // of this invocation
  bool limit_reached = false;
  auto save = [&] {
    if (cfg.checkpoint.empty()) return;
    trainer->check_parameters();
    save_checkpoint(cfg.checkpoint, trainer->state(), cfg.checkpoint_particles);
  };
  // Saves, says why the run stopped and how to continue, and gives the exit code.
  auto stop_now = [&](int sig, bool saved) {
    progress.clear();
    if (!saved) save();
    const TrainState& st = trainer->state();
    out << "# stopped by " << (sig ? (sig == SIGINT ? "SIGINT" : "SIGTERM") : "--max-minibatches") << " after "
        << minibatches << " minibatches of this run (" << st.epochs_done << " epochs done"
        << (st.in_epoch ? ", epoch " + std::to_string(st.epochs_done + 1) + " at sample " + std::to_string(st.cursor)
                        : std::string())
        << "); "
        << (cfg.checkpoint.empty() ? "no --checkpoint was given, nothing was saved"
                                   : "checkpoint written to " + cfg.checkpoint + "; continue with: eqprop train --resume " +
                                         cfg.checkpoint)
        << std::endl;
    return sig ? 128 + sig : 0;
  };

  const int L = static_cast<int>(cfg.hidden.size()) + 1;
  out << epoch_header(L) << std::endl;
  while (trainer->state().epochs_done < cfg.epochs) {
    const bool finished = trainer->train_pass([&](const Trainer& t) {
      ++minibatches;
      const TrainState& st = t.state();
      progress.update(st.current.epoch, st.cursor, t.samples_per_epoch(),
                      st.current.train_seconds > 0 ? st.current.train.count / st.current.train_seconds : 0.0,
                      error_percent(st.current.train));
      if (cfg.checkpoint_every > 0 && minibatches % cfg.checkpoint_every == 0) save();
      limit_reached = cfg.max_minibatches > 0 && minibatches >= cfg.max_minibatches;
      return signals.received() || limit_reached ? Next::Stop : Next::Continue;
    });
    if (!finished) return stop_now(signals.received(), false);
    progress.clear();
    const EpochStats& s = trainer->finish_epoch();
    out << epoch_line(s, data.train.count) << std::endl;
    metrics.write(epoch_json(s, data.train.count));
    save();
    if (signals.received() || limit_reached) return stop_now(signals.received(), true);
  }
  const auto t_test = clock::now();
  const StateStats test = trainer->evaluate(data.test, cfg.test_steps, nullptr);
  const double test_seconds = std::chrono::duration<double>(clock::now() - t_test).count();
  out << "test error " << error_percent(test) << "% (" << test.count << " examples, free phase of " << cfg.test_steps
      << " steps from zero states, " << test_seconds << " s)" << std::endl;
  metrics.write(test_json(test, cfg.test_steps, test_seconds));
  return signals.received() ? 128 + signals.received() : 0;
}

}  // namespace eqprop
