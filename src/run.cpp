// The `train` command: configuration (with --resume layering), data, the epoch loop with
// progress, checkpoints and stop requests, and the final test evaluation.
//
// Across ranks every rank runs this same function: rank 0 alone reads the checkpoint,
// prints, writes metrics and checkpoints. Every step that can fail on one rank alone (a
// file, a disk) runs inside Cluster::agree, so all ranks stop together with its message.
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>

#include "eqprop/checkpoint.hpp"
#include "eqprop/cli.hpp"
#include "eqprop/cluster.hpp"
#include "eqprop/commands.hpp"
#include "eqprop/dataset.hpp"
#include "eqprop/metrics.hpp"
#include "eqprop/progress.hpp"
#include "eqprop/stop_signals.hpp"
#include "eqprop/trainer.hpp"

namespace eqprop {

namespace {

// FNV-1a over bytes: enough to tell two ranks' data or configuration apart.
std::uint64_t fnv1a(const void* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}
std::uint64_t fingerprint(const Dataset& d) {
  return fnv1a(d.y.data(), d.y.size(), fnv1a(d.x.data(), d.x.size() * sizeof(float)));
}

// Every rank must train the same run on the same data: a rank whose configuration or data
// differ from rank 0's (another data folder on its node, say) is named. Keys that cannot
// change the numbers are left out, so nodes may differ in them: the thread count (results
// do not depend on it), the data folder's path (its contents are compared instead), and
// the metrics file and progress line (only rank 0 writes them).
void check_same_everywhere(const Cluster& cluster, const Config& cfg, const Splits& data) {
  if (cluster.size() == 1) return;
  Config compared = cfg;
  compared.threads = 1;
  compared.data.clear();
  compared.metrics.clear();
  compared.progress = true;
  const std::string text = format_config(compared);
  const std::uint64_t mine[4] = {fnv1a(text.data(), text.size()), fingerprint(data.train), fingerprint(data.valid),
                                 fingerprint(data.test)};
  std::vector<std::uint64_t> all(4 * std::size_t(cluster.size()));
  std::vector<int> counts(cluster.size(), 4), offsets(cluster.size());
  for (int r = 0; r < cluster.size(); ++r) offsets[r] = 4 * r;
  cluster.allgather(mine, 4, all.data(), counts, offsets, sizeof(std::uint64_t));
  cluster.agree([&] {
    const char* what[4] = {"configuration", "training data", "validation data", "test data"};
    for (int i = 0; i < 4; ++i) {
      if (all[i] != mine[i]) {
        throw InputError(std::string("its ") + what[i] + (i == 0 ? " differs" : " differ") + " from rank 0's (data folder '" +
                         cfg.data + "'): every rank must run the same configuration on the same files");
      }
    }
  });
}

}  // namespace

int run_train(const Words& args, std::ostream& out_all, std::ostream& err_all, const Cluster& cluster) {
  using clock = std::chrono::steady_clock;
  // Only rank 0 speaks; the others write into a stream without a buffer, which discards.
  std::ostream quiet(nullptr);
  std::ostream& out = cluster.root() ? out_all : quiet;
  std::ostream& err = cluster.root() ? err_all : quiet;
  TrainArgs a = parse_train_args(args, Command::Train, nullptr, /*validate=*/false);
  if (a.help) {
    out << help_text(Command::Train);
    return 0;
  }
  // A resumed run: the checkpoint's configuration is the base the file and command line
  // override. Rank 0 reads the file; the other ranks get the state without particles
  // (the Trainer sends each rank its particles).
  std::optional<TrainState> resumed;
  CheckpointInfo info;
  if (!a.cfg.resume.empty()) {
    std::string model;
    cluster.agree([&] {
      if (!cluster.root()) return;
      resumed = load_checkpoint(a.cfg.resume, &info);
      if (cluster.size() > 1) model = encode_checkpoint(*resumed, false);
    });
    if (cluster.size() > 1) {
      cluster.broadcast(model, 0);
      if (!cluster.root()) resumed = decode_checkpoint(model, a.cfg.resume);
    }
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
  std::optional<MetricsFile> metrics;
  cluster.agree([&] {
    if (!cluster.root()) return;
    if (!cfg.checkpoint.empty()) check_checkpoint_writable(cfg.checkpoint);
    metrics.emplace(cfg.metrics, /*append=*/resumed.has_value());
  });
  const int threads = cfg.threads;
  // The one TBB limit of the whole run; every parallel_for below respects it.
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

  out << "# eqprop train: effective configuration\n" << format_config(cfg);
  if (cluster.size() > 1) out << "# ranks " << cluster.size() << ", ";
  else out << "# ";
  out << "threads " << threads << (cluster.size() > 1 ? " per rank" : "") << ", chunk " << std::min(cfg.chunk, cfg.batch)
      << " (training), " << cfg.eval_chunk << " (evaluation)\n";
  const auto t_load = clock::now();
  Splits data;
  cluster.agree([&] { data = load_splits(cfg); });
  check_same_everywhere(cluster, cfg, data);
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
    trainer.emplace(std::move(*resumed), data.train, data.valid, cluster);
    resumed.reset();
  } else {
    trainer.emplace(cfg, data.train, data.valid, cluster);
  }
  if (cluster.size() > 1) {
    const int chunks = (cfg.batch + std::min(cfg.chunk, cfg.batch) - 1) / std::min(cfg.chunk, cfg.batch);
    out << "# each minibatch: " << chunks << " chunks over " << cluster.size() << " ranks, "
        << trainer->exchange_bytes() << " bytes of states exchanged"
        << (chunks < cluster.size() ? " (more ranks than chunks: some ranks relax nothing; lower --chunk)" : "")
        << "\n";
  }

  StopSignals signals;
  ProgressLine progress(err, cfg.progress, isatty(STDERR_FILENO) != 0);
  long minibatches = 0;  // of this invocation
  bool limit_reached = false;
  // Collective: the particles come from every rank, rank 0 writes, every rank hears
  // whether the write worked.
  auto save = [&] {
    if (cfg.checkpoint.empty()) return;
    cluster.agree([&] {
      trainer->check_parameters();  // the same on every rank: one message, from rank 0
      trainer->with_full_state(
          [&](const TrainState& st) { save_checkpoint(cfg.checkpoint, st, cfg.checkpoint_particles); });
    });
  };
  // A signal reaches each rank at its own moment: the ranks stop after the same minibatch,
  // the first at which any of them has one.
  int stop_signal = 0;
  auto agreed_signal = [&] {
    stop_signal = static_cast<int>(cluster.max(signals.received()));
    return stop_signal;
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
      return agreed_signal() || limit_reached ? Next::Stop : Next::Continue;
    });
    if (!finished) return stop_now(stop_signal, false);
    progress.clear();
    const EpochStats& s = trainer->finish_epoch();
    out << epoch_line(s, data.train.count) << std::endl;
    if (metrics) metrics->write(epoch_json(s, data.train.count));
    save();
    if (agreed_signal() || limit_reached) return stop_now(stop_signal, true);
  }
  const auto t_test = clock::now();
  const StateStats test = trainer->evaluate(data.test, cfg.test_steps, nullptr);
  const double test_seconds = std::chrono::duration<double>(clock::now() - t_test).count();
  out << "test error " << error_percent(test) << "% (" << test.count << " examples, free phase of " << cfg.test_steps
      << " steps from zero states, " << test_seconds << " s)" << std::endl;
  if (metrics) metrics->write(test_json(test, cfg.test_steps, test_seconds));
  return agreed_signal() ? 128 + stop_signal : 0;
}

}  // namespace eqprop
