// The `eval` command: a saved model's error, energy and cost on one split.
#include <chrono>
#include <ostream>

#include "eqprop/error.hpp"
#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/app/run_data.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/engine/trainer.hpp"
#include "eqprop/app/commands.hpp"

namespace eqprop {

int run_eval(const Words& args, std::ostream& out, std::ostream&, const Runtime&) {
  const EvalArgs a = parse_eval_args(args);
  if (a.help) return out << help_text(Command::Eval), 0;
  CheckpointInfo info;
  TrainState st = load_checkpoint(a.checkpoint, &info);
  if (!a.data.empty()) st.cfg.data = a.data;
  if (a.relax_scheme) st.cfg.relax = *a.relax_scheme;
  if (a.tol >= 0.f) st.cfg.tol = a.tol;
  const int threads = a.threads;
  const ThreadSetup thread_setup(threads);
  const Splits data = load_run_data(st.cfg, a.checkpoint);
  // Particles exist for the training and validation splits only, and only in full checkpoints.
  const bool from_particles = !a.from_zero && a.split != "test" && info.has_particles;
  Particles particles = a.split == "train" ? st.train_particles : st.valid_particles;
  const Dataset& split = a.split == "train" ? data.train : a.split == "valid" ? data.valid : data.test;
  if (split.count == 0)  // a 0 % error over no examples would mislead
    throw ConfigError("--split " + a.split + ": the run's data has no " + a.split + " split" +
                      (a.split == "valid" ? " (train-on-all, or valid-count 0)" : " (no test file)") +
                      "; choose another --split");
  const int steps = a.steps > 0 ? a.steps : from_particles ? st.cfg.n_free : st.cfg.test_steps;
  const RelaxScheme st_relax = st.cfg.relax;
  const float st_tol = st.cfg.tol;
  Trainer trainer(std::move(st), data.train, data.valid);
  const auto t0 = std::chrono::steady_clock::now();
  const StateStats s = trainer.evaluate(split, steps, from_particles ? &particles : nullptr);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << a.split << " error " << error_percent(s) << "% (" << s.errors << " of " << s.count
      << " examples), mean energy " << mean_energy(s) << ", mean cost " << mean_cost(s) << "\n"
      << "free phase of " << steps << " steps from "
      << (from_particles ? "the saved particles" : "zero states")
      << (a.split != "test" && !from_particles && !a.from_zero ? " (the checkpoint has no particles)" : "") << ", "
      << threads << " threads, " << secs << " s\n"
      << "steps per example: " << (s.count > 0 ? s.free_steps / double(s.count) : 0.0) << " (" << to_string(st_relax)
      << (st_tol > 0.f ? ", tol " + std::to_string(st_tol) : std::string(", no tolerance")) << ")\n";
  return 0;
}

}  // namespace eqprop
