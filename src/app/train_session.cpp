#include "eqprop/app/train_session.hpp"

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <sstream>

#include "eqprop/io/checkpoint.hpp"

namespace eqprop {

std::string progress_text(const TrainState& st) {
  std::string s = std::to_string(st.epochs_done) + " epochs done";
  if (st.in_epoch) s += ", epoch " + std::to_string(st.epochs_done + 1) + " at sample " + std::to_string(st.cursor);
  return s;
}

BestEpoch best_epoch(const std::vector<EpochStats>& curves) {
  BestEpoch b;
  for (const EpochStats& e : curves) {
    if (e.valid.count == 0) continue;
    const double err = error_percent(e.valid);
    if (b.best_epoch == 0 || err < b.best_error) {
      b.best_epoch = e.epoch;
      b.best_error = err;
    }
  }
  if (b.best_epoch > 0) b.since = curves.back().epoch - b.best_epoch;
  return b;
}

TrainSession::TrainSession(const Config& cfg, const Processes& procs, Trainer& trainer, const Splits& data,
                           std::optional<MetricsFile>& metrics, std::ostream& out, std::ostream& err)
    : cfg_(cfg), procs_(procs), trainer_(trainer), data_(data), metrics_(metrics), out_(out),
      progress_(err, cfg.progress, isatty(STDERR_FILENO) != 0) {}

void TrainSession::save() {
  if (cfg_.checkpoint.empty()) return;
  procs_.agree([&] {
    trainer_.check_parameters();  // the same on every rank: one message, from rank 0
    trainer_.with_full_state([&](const TrainState& st) { save_checkpoint(cfg_.checkpoint, st, cfg_.saves_particles()); });
  });
}

void TrainSession::write_metrics(const std::string& line) {
  // Every rank takes part, so a failed write on rank 0 (a full disk) ends every rank with one
  // message instead of leaving the others waiting in the next minibatch.
  procs_.agree([&] {
    if (metrics_) metrics_->write(line);
  });
}

int TrainSession::agreed_signal() {
  stop_signal_ = static_cast<int>(procs_.max(signals_.received()));
  return stop_signal_;
}

Next TrainSession::after_minibatch(const Trainer& t) {
  ++minibatches_;
  const TrainState& st = t.state();
  progress_.update(st.current.epoch, st.cursor, t.samples_per_epoch(),
                   st.current.train_seconds > 0 ? st.current.train.count / st.current.train_seconds : 0.0,
                   error_percent(st.current.train));
  if (cfg_.checkpoint_every > 0 && minibatches_ % cfg_.checkpoint_every == 0) save();
  limit_reached_ = cfg_.max_minibatches > 0 && minibatches_ >= cfg_.max_minibatches;
  return agreed_signal() || limit_reached_ ? Next::Stop : Next::Continue;
}

int TrainSession::stop_now(bool saved) {
  progress_.clear();
  if (!saved) save();
  const int sig = stop_signal_;
  out_ << "# stopped by " << (sig ? (sig == SIGINT ? "SIGINT" : "SIGTERM") : "--max-minibatches") << " after "
       << minibatches_ << " minibatches of this run (" << progress_text(trainer_.state()) << "); "
       << (cfg_.checkpoint.empty() ? "no --checkpoint was given, nothing was saved"
                                   : "checkpoint written to " + cfg_.checkpoint +
                                         "; continue with: eqprop train --resume " + cfg_.checkpoint)
       << std::endl;
  return sig ? 128 + sig : 0;
}

void TrainSession::keep_best() {
  if (cfg_.keep_best.empty()) return;
  const TrainState& st = trainer_.state();
  if (st.curves.empty() || best_epoch(st.curves).best_epoch != st.curves.back().epoch) return;
  procs_.agree([&] {
    trainer_.check_parameters();
    trainer_.with_full_state([&](const TrainState& s) { save_checkpoint(cfg_.keep_best, s, cfg_.saves_particles()); });
  });
}

bool TrainSession::out_of_patience() {
  if (cfg_.patience == 0) return false;
  const BestEpoch b = best_epoch(trainer_.state().curves);
  if (b.best_epoch == 0 || b.since < cfg_.patience) return false;
  out_ << "# early stop after epoch " << trainer_.state().epochs_done << ": the validation error has not improved for "
       << b.since << " epochs (patience " << cfg_.patience << "); best " << b.best_error << "% at epoch " << b.best_epoch
       << (cfg_.keep_best.empty() ? std::string() : ", kept in " + cfg_.keep_best) << std::endl;
  std::ostringstream js;
  js << "{\"early_stop\": {\"after_epoch\": " << trainer_.state().epochs_done << ", \"patience\": " << cfg_.patience
     << ", \"best_epoch\": " << b.best_epoch << ", \"best_valid_error\": " << b.best_error << "}}";
  write_metrics(js.str());
  return true;
}

void TrainSession::test() {
  if (!data_.has_test) {  // a data set without a test file: said, and null in the metrics
    out_ << "test error - (the data set has no test split)" << std::endl;
    write_metrics(test_json(StateStats{}, cfg_.test_steps, 0.0));
    return;
  }
  const auto t0 = std::chrono::steady_clock::now();
  // In slices of one chunk per thread of every process, so that SIGINT/SIGTERM is acted on
  // within a slice's time (a convnet's test set can take hours) without idling a thread.
  const int slice = static_cast<int>(procs_.max(cfg_.threads)) * procs_.size();
  const std::optional<StateStats> done =
      trainer_.evaluate_in_slices(data_.test, cfg_.test_steps, slice, [&] { return agreed_signal() == 0; });
  if (!done) {
    progress_.clear();
    out_ << "# stopped by " << (stop_signal_ == SIGINT ? "SIGINT" : "SIGTERM") << " in the test evaluation, after all "
         << trainer_.state().epochs_done << " epochs; "
         << (cfg_.checkpoint.empty() ? std::string("no --checkpoint was given, nothing was saved")
                                     : cfg_.checkpoint + " holds them; eqprop train --resume " + cfg_.checkpoint +
                                           " runs only the test evaluation")
         << std::endl;
    return;
  }
  const StateStats& test = *done;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out_ << "test error " << error_percent(test) << "% (" << test.count << " examples, free phase of " << cfg_.test_steps
       << " steps from zero states, " << seconds << " s)" << std::endl;
  write_metrics(test_json(test, cfg_.test_steps, seconds));
}

int TrainSession::run() {
  // The steps column where phases may stop early.
  const bool early = cfg_.relax == RelaxScheme::Alternating || cfg_.tol > 0.f;
  const int phases = cfg_.nudging == Nudging::Symmetric ? 2 : 1;
  out_ << epoch_header(static_cast<int>(cfg_.entries().size()) + 1, early) << std::endl;
  // A run that stopped early and is resumed stops again (its curves say so) unless the
  // patience was raised.
  bool stopped_early = !trainer_.state().in_epoch && out_of_patience();
  while (!stopped_early && trainer_.state().epochs_done < cfg_.epochs) {
    const bool finished = trainer_.train_pass([&](const Trainer& t) { return after_minibatch(t); });
    if (!finished) return stop_now(false);
    progress_.clear();
    const EpochStats& s = trainer_.finish_epoch();
    out_ << epoch_line(s, data_.train.count, early ? phases : 0) << std::endl;
    if (cfg_.diagnostics) out_ << diagnostics_line(s) << std::endl;
    const std::string dead = dead_output_warning(s);
    if (!dead.empty()) out_ << dead << std::endl;
    write_metrics(epoch_json(s, data_.train.count, phases));
    // The best epoch's file first: a kill between the two writes repeats this epoch on resume,
    // which writes it again.
    keep_best();
    save();
    if (agreed_signal() || limit_reached_) return stop_now(true);
    stopped_early = out_of_patience();
  }
  test();
  return agreed_signal() ? 128 + stop_signal_ : 0;
}

}  // namespace eqprop
