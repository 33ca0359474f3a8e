// The commands around training: bench, eval, info, export.
#include <chrono>
#include <ostream>

#include "eqprop/app/bench.hpp"
#include "eqprop/io/checkpoint.hpp"
#include "eqprop/app/cli.hpp"
#include "eqprop/app/commands.hpp"
#include "eqprop/app/runtime.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/error.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/io/npz.hpp"
#include "eqprop/engine/trainer.hpp"

namespace eqprop {
namespace {
// "examples x (n_1, ..., n_L)". The widths come from the network: a split with no examples
// (the validation particles of a --train-on-all run) has capacity 0, and s.size(k) would
// divide by it.
std::string shape_of(const LayerStates<float>& s, const std::vector<int>& sizes) {
  std::string out = std::to_string(s.capacity) + " x (";
  for (std::size_t k = 1; k < sizes.size(); ++k) out += (k > 1 ? ", " : "") + std::to_string(sizes[k]);
  return out + ")";
}
}  // namespace

int run_bench_command(const Words& args, std::ostream& out) {
  const TrainArgs a = parse_train_args(args, Command::Bench);
  if (a.help) {
    out << help_text(Command::Bench);
    return 0;
  }
  if (a.dump_config) {
    out << format_config(a.cfg);
    return 0;
  }
  run_bench(a.cfg, out);
  return 0;
}

int run_eval(const Words& args, std::ostream& out) {
  const EvalArgs a = parse_eval_args(args);
  if (a.help) {
    out << help_text(Command::Eval);
    return 0;
  }
  CheckpointInfo info;
  TrainState st = load_checkpoint(a.checkpoint, &info);
  if (!a.data.empty()) st.cfg.data = a.data;
  const int threads = a.threads;
  const ThreadSetup thread_setup(threads);
  const Splits data = load_splits(st.cfg);
  // Particles exist for the training and validation splits only, and only in full checkpoints.
  const bool from_particles = !a.from_zero && a.split != "test" && info.has_particles;
  Particles particles = a.split == "train" ? st.train_particles : st.valid_particles;
  const Dataset& split = a.split == "train" ? data.train : a.split == "valid" ? data.valid : data.test;
  if (split.count == 0)  // a --train-on-all run: a 0 % error over no examples would mislead
    throw ConfigError("--split " + a.split + ": the run was trained with train-on-all and has no " + a.split +
                      " split; use --split train or --split test");
  const int steps = a.steps > 0 ? a.steps : from_particles ? st.cfg.n_free : st.cfg.test_steps;
  Trainer trainer(std::move(st), data.train, data.valid);
  const auto t0 = std::chrono::steady_clock::now();
  const StateStats s = trainer.evaluate(split, steps, from_particles ? &particles : nullptr);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out << a.split << " error " << error_percent(s) << "% (" << s.errors << " of " << s.count
      << " examples), mean energy " << mean_energy(s) << ", mean cost " << mean_cost(s) << "\n"
      << "free phase of " << steps << " steps from "
      << (from_particles ? "the saved particles" : "zero states")
      << (a.split != "test" && !from_particles && !a.from_zero ? " (the checkpoint has no particles)" : "") << ", "
      << threads << " threads, " << secs << " s\n";
  return 0;
}

int run_info(const Words& args, std::ostream& out) {
  const FileArgs a = parse_file_args(args, Command::Info);
  if (a.help) {
    out << help_text(Command::Info);
    return 0;
  }
  CheckpointInfo info;
  const TrainState st = load_checkpoint(a.checkpoint, &info);
  out << "checkpoint " << a.checkpoint << ": format version " << info.format << ", " << info.payload_bytes
      << " payload bytes, " << (info.has_particles ? "with particles" : "model only (no particles)") << "\n";
  out << "progress: " << st.epochs_done << " of " << st.cfg.epochs << " epochs done";
  if (st.in_epoch) out << "; inside epoch " << st.epochs_done + 1 << " at sample " << st.cursor << " of " << st.order.size();
  out << "\n\nconfiguration:\n" << format_config(st.cfg) << "\ntensors (float32, row-major):\n";
  for (int k = 1; k <= st.net.layers(); ++k)
    out << "  W" << k << "  " << st.net.sizes[k - 1] << " x " << st.net.sizes[k] << "\n";
  for (int k = 0; k <= st.net.layers(); ++k) out << "  b" << k << "  " << st.net.sizes[k] << "\n";
  if (info.has_particles) {
    out << "  train particles  " << shape_of(st.train_particles, st.net.sizes) << "\n"
        << "  valid particles  " << shape_of(st.valid_particles, st.net.sizes) << "\n";
  }
  out << "\ntraining curves:\n";
  if (st.curves.empty()) out << "  (no finished epoch)\n";
  else out << epoch_header(st.net.layers()) << "\n";
  const int train_count = static_cast<int>(st.order.size());
  for (const auto& e : st.curves) out << epoch_line(e, train_count) << "\n";
  return 0;
}

int run_export(const Words& args, std::ostream& out) {
  const FileArgs a = parse_file_args(args, Command::Export);
  if (a.help) {
    out << help_text(Command::Export);
    return 0;
  }
  CheckpointInfo info;
  const TrainState st = load_checkpoint(a.checkpoint, &info);
  if (a.particles && !info.has_particles)
    throw InputError("--particles: checkpoint '" + a.checkpoint + "' is model-only (saved without particles)");
  std::vector<NpyArray> arrays;
  for (int k = 1; k <= st.net.layers(); ++k)
    arrays.push_back({"W" + std::to_string(k), {std::size_t(st.net.sizes[k - 1]), std::size_t(st.net.sizes[k])}, st.net.W[k]});
  for (int k = 0; k <= st.net.layers(); ++k)
    arrays.push_back({"b" + std::to_string(k), {std::size_t(st.net.sizes[k])}, st.net.b[k]});
  if (a.particles) {
    for (const auto& [name, p] : {std::pair{"train_h", &st.train_particles}, std::pair{"valid_h", &st.valid_particles}})
      for (int k = 1; k <= st.net.layers(); ++k)
        arrays.push_back({name + std::to_string(k), {std::size_t(p->capacity), std::size_t(st.net.sizes[k])}, p->h[k]});
  }
  write_npz(a.npz, arrays);
  out << "wrote " << arrays.size() << " arrays (W1..W" << st.net.layers() << ", b0..b" << st.net.layers()
      << (a.particles ? ", train_h1.., valid_h1.." : "") << ") to " << a.npz << "\n";
  return 0;
}

}  // namespace eqprop
