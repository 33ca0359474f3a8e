// The `train` command: configuration (with --resume layering), the checks that fail cheaply,
// data, the Trainer, then the TrainSession. Across ranks every rank runs this same function;
// rank 0 alone reads the checkpoint and speaks.
#include <chrono>
#include <optional>
#include <ostream>

#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/kernels/blas_choice.hpp"
#include "eqprop/app/run_data.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/engine/trainer.hpp"
#include "eqprop/app/cli.hpp"
#include "eqprop/app/commands.hpp"
#include "eqprop/app/train_session.hpp"

namespace eqprop {
namespace {

// FNV-1a over bytes: enough to tell two ranks' data or configuration apart.
std::uint64_t fnv1a(const void* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  return h;
}
std::uint64_t fingerprint(const Dataset& d) {
  const std::uint64_t images = d.floats ? fnv1a(d.xf.data(), d.xf.size() * sizeof(float)) : fnv1a(d.x.data(), d.x.size());
  return fnv1a(d.y.data(), d.y.size() * sizeof(Label), images);
}

// Every rank must train the same run on the same data: a rank whose configuration or data
// differ from rank 0's (another data folder on its node, say) is named. Keys that cannot
// change the numbers are left out, so nodes may differ in them: the thread count (results
// do not depend on it), the data folder's path (its contents are compared instead), and
// the metrics file and progress line (only rank 0 writes them).
void check_same_everywhere(const Processes& procs, const Config& cfg, const Splits& data) {
  if (procs.size() == 1) return;
  Config compared = cfg;
  compared.threads = 1;
  compared.data.clear();
  compared.metrics.clear();
  compared.progress = true;
  const std::string text = format_config(compared);
  const int differs = procs.first_difference_from_root(
      {fnv1a(text.data(), text.size()), fingerprint(data.train), fingerprint(data.valid), fingerprint(data.test)});
  procs.agree([&] {
    const char* what[4] = {"configuration", "training data", "validation data", "test data"};
    if (differs >= 0) {
      throw InputError(std::string("its ") + what[differs] + (differs == 0 ? " differs" : " differ") +
                       " from rank 0's (data folder '" + cfg.data +
                       "'): every rank must run the same configuration on the same files");
    }
  });
}

// A resumed run: rank 0 reads the checkpoint; the other ranks get the state without particles
// (the Trainer sends each rank its particles).
std::optional<TrainState> read_resumed(const std::string& path, const Processes& procs, CheckpointInfo& info) {
  std::optional<TrainState> resumed;
  std::string model;
  procs.agree([&] {
    if (!procs.root()) return;
    resumed = load_checkpoint(path, &info);
    if (procs.size() > 1) model = encode_checkpoint(*resumed, false);
  });
  if (procs.size() > 1) {
    procs.broadcast(model, 0);
    if (!procs.root()) resumed = decode_checkpoint(model, path);
  }
  return resumed;
}

void print_start(std::ostream& out, const Config& cfg, int ranks) {
  out << "# eqprop train: effective configuration\n" << format_config(cfg);
  if (ranks > 1) out << "# ranks " << ranks << ", ";
  else out << "# ";
  out << "threads " << cfg.threads << (ranks > 1 ? " per rank" : "") << ", chunk " << cfg.train_chunk()
      << " (training), " << cfg.eval_chunk << " (evaluation), OpenBLAS " << blas_kernel_name() << " kernels\n";
}

void print_exchange(std::ostream& out, const Config& cfg, int ranks, long bytes) {
  if (ranks == 1) return;
  const int chunks = cfg.train_chunks();
  out << "# each minibatch: " << chunks << " chunks over " << ranks << " ranks, " << bytes
      << " bytes of states exchanged"
      << (chunks < ranks ? " (more ranks than chunks: some ranks relax nothing; lower --chunk)" : "") << "\n";
}

}  // namespace

int run_train(const Words& args, std::ostream& out_all, std::ostream& err_all, const Runtime& rt) {
  using clock = std::chrono::steady_clock;
  const Processes& procs = *rt.processes;
  // Only rank 0 speaks; the others write into a stream without a buffer, which discards.
  std::ostream quiet(nullptr);
  std::ostream& out = procs.root() ? out_all : quiet;
  std::ostream& err = procs.root() ? err_all : quiet;
  TrainArgs a = parse_train_args(args, Command::Train, nullptr, /*validate=*/false);
  if (a.help) return out << help_text(Command::Train), 0;
  // A resumed run: the checkpoint's configuration is the base the file and command line override.
  CheckpointInfo info;
  std::optional<TrainState> resumed;
  if (!a.cfg.resume.empty()) {
    const std::string from = a.cfg.resume;
    resumed = read_resumed(from, procs, info);
    a = parse_train_args(args, Command::Train, &resumed->cfg, true, procs.size());
    a.cfg.resume = from;
  } else {
    a = parse_train_args(args, Command::Train, nullptr, true, procs.size());
  }
  Config& cfg = a.cfg;
  if (a.dump_config) return out << format_config(cfg), 0;
  // Everything that can fail cheaply fails before the data is loaded and training starts.
  if (resumed) check_resume_architecture(*resumed, cfg);
  std::optional<MetricsFile> metrics;
  procs.agree([&] {
    if (!procs.root()) return;
    if (!cfg.checkpoint.empty()) check_checkpoint_writable(cfg.checkpoint);
    if (!cfg.keep_best.empty()) check_checkpoint_writable(cfg.keep_best);
    metrics.emplace(cfg.metrics, /*append=*/resumed.has_value());
  });
  const ThreadSetup threads(cfg.threads);
  print_start(out, cfg, procs.size());
  const auto t_load = clock::now();
  Splits data;
  procs.agree([&] { data = load_run_data(cfg, resumed ? cfg.resume : std::string()); });
  check_same_everywhere(procs, cfg, data);
  out << "# data: " << data_summary(cfg, data) << " (" << std::chrono::duration<double>(clock::now() - t_load).count()
      << " s)\n";
  std::optional<Trainer> trainer;
  if (resumed) {
    resumed->cfg = cfg;
    out << "# resumed from " << cfg.resume << ": " << progress_text(*resumed)
        << (!cfg.persistent_particles ? "; free phases from zero states (no particles needed)"
            : info.has_particles         ? "; particles restored"
                                         : "; model-only checkpoint: particles restart from zero")
        << "\n";
    trainer.emplace(std::move(*resumed), data.train, data.valid, rt.distribution());
    resumed.reset();
  } else {
    trainer.emplace(cfg, data.train, data.valid, rt.distribution());
  }
  print_exchange(out, cfg, procs.size(), trainer->exchange_bytes());
  return TrainSession(cfg, procs, *trainer, data, metrics, out, err).run();
}

}  // namespace eqprop
