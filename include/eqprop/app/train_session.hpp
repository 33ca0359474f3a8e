// TrainSession: one invocation of `eqprop train` once its configuration, data and Trainer are
// ready: the epoch loop with the progress line, the periodic and final checkpoints, stop
// requests (SIGINT/SIGTERM, --max-minibatches) and the test evaluation at the end.
//
// Across ranks every rank runs it: rank 0 alone prints, writes metrics and checkpoints, and
// every step that can fail on one rank alone (a disk) runs inside Processes::agree, so all
// ranks stop together with its message.
#pragma once
#include <optional>
#include <ostream>

#include "eqprop/io/dataset.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/io/progress.hpp"
#include "eqprop/engine/processes.hpp"
#include "eqprop/engine/trainer.hpp"
#include "eqprop/app/stop_signals.hpp"

namespace eqprop {

// "N epochs done" and, inside an epoch, ", epoch E at sample S".
std::string progress_text(const TrainState& st);

// The run's best validation epoch so far (the lowest error; the earlier on a tie) and how many
// epochs have finished since it, from the curves alone, so that --keep-best and --patience
// continue across a resume without state of their own. best_epoch 0: no epoch yet.
struct BestEpoch {
  int best_epoch = 0;
  double best_error = 0;
  int since = 0;
};
BestEpoch best_epoch(const std::vector<EpochStats>& curves);

class TrainSession {
 public:
  // All borrowed; out and err are the rank's own (rank 0's real streams, elsewhere silent).
  TrainSession(const Config& cfg, const Processes& procs, Trainer& trainer, const Splits& data,
               std::optional<MetricsFile>& metrics, std::ostream& out, std::ostream& err);
  // The epochs still to run, then the test evaluation: the exit code (0, or 128+signal).
  int run();

 private:
  // Collective: the particles come from every rank, rank 0 writes, every rank hears whether
  // the write worked.
  void save();
  // A signal reaches each rank at its own moment: the ranks stop after the same minibatch, the
  // first at which any of them has one.
  int agreed_signal();
  Next after_minibatch(const Trainer& t);
  // Saves (unless just saved), says why the run stopped and how to continue: the exit code.
  int stop_now(bool saved);
  // --keep-best: writes the state to cfg.keep_best when the epoch just finished is the best.
  void keep_best();
  // --patience: true (and says so, in the log and the metrics) when the run stops early.
  bool out_of_patience();
  void test();
  // Collective: one line of --metrics, written by rank 0; every rank hears whether it worked.
  void write_metrics(const std::string& line);

  const Config& cfg_;
  const Processes& procs_;
  Trainer& trainer_;
  const Splits& data_;
  std::optional<MetricsFile>& metrics_;
  std::ostream& out_;
  StopSignals signals_;
  ProgressLine progress_;
  long minibatches_ = 0;  // of this invocation
  bool limit_reached_ = false;
  int stop_signal_ = 0;
};

}  // namespace eqprop
