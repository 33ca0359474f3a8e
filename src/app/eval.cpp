// The `eval` command: a saved model's error, energy and cost on one split.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <ostream>

#include <nlohmann/json.hpp>

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
  const int classes = st.cfg.facts.classes;
  Trainer trainer(std::move(st), data.train, data.valid);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<float> scores;
  const StateStats s = trainer.evaluate(split, steps, from_particles ? &particles : nullptr, a.per_class ? &scores : nullptr);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // confusion[true][predicted], the prediction being the first largest score (as the error count).
  std::vector<std::vector<long>> confusion(a.per_class ? classes : 0, std::vector<long>(classes, 0));
  for (int i = 0; a.per_class && i < split.count; ++i) {
    const float* row = scores.data() + std::size_t(i) * classes;
    ++confusion[split.y[i]][std::max_element(row, row + classes) - row];
  }
  // Per class: its examples (the row's sum) and its errors (off the diagonal).
  std::vector<long> class_count(confusion.size(), 0), class_errors(confusion.size(), 0);
  for (std::size_t c = 0; c < confusion.size(); ++c) {
    for (long v : confusion[c]) class_count[c] += v;
    class_errors[c] = class_count[c] - confusion[c][c];
  }
  auto class_error = [&](int c) { return class_count[c] ? 100.0 * class_errors[c] / class_count[c] : 0.0; };
  if (a.json) {
    nlohmann::json j;
    j["checkpoint"] = a.checkpoint;
    j["split"] = a.split;
    j["error"] = error_percent(s);
    j["errors"] = s.errors;
    j["count"] = s.count;
    j["energy"] = mean_energy(s);
    j["cost"] = mean_cost(s);
    j["steps"] = steps;
    j["steps_per_example"] = s.count > 0 ? s.free_steps / double(s.count) : 0.0;
    j["from"] = from_particles ? "particles" : "zero";
    j["relax"] = to_string(st_relax);
    j["threads"] = threads;
    j["seconds"] = secs;
    if (a.per_class) {
      j["confusion"] = confusion;
      nlohmann::json per = nlohmann::json::array();
      for (int c = 0; c < classes; ++c)
        per.push_back({{"class", c}, {"count", class_count[c]}, {"errors", class_errors[c]}, {"error", class_error(c)}});
      j["per_class"] = per;
    }
    out << j.dump() << "\n";
    return 0;
  }
  out << a.split << " error " << error_percent(s) << "% (" << s.errors << " of " << s.count
      << " examples), mean energy " << mean_energy(s) << ", mean cost " << mean_cost(s) << "\n"
      << "free phase of " << steps << " steps from "
      << (from_particles ? "the saved particles" : "zero states")
      << (a.split != "test" && !from_particles && !a.from_zero ? " (the checkpoint has no particles)" : "") << ", "
      << threads << " threads, " << secs << " s\n"
      << "steps per example: " << (s.count > 0 ? s.free_steps / double(s.count) : 0.0) << " (" << to_string(st_relax)
      << (st_tol > 0.f ? ", tol " + std::to_string(st_tol) : std::string(", no tolerance")) << ")\n";
  if (a.per_class) {
    out << "\nper class (rows: true class, columns: predicted; error in percent):\n  class  examples   error";
    for (int c = 0; c < classes; ++c) out << std::setw(6) << c;
    out << "\n";
    for (int c = 0; c < classes; ++c) {
      out << std::setw(7) << c << std::setw(10) << class_count[c] << std::setw(8) << std::fixed << std::setprecision(2)
          << class_error(c);
      for (long v : confusion[c]) out << std::setw(6) << v;
      out << "\n";
    }
  }
  return 0;
}

}  // namespace eqprop
