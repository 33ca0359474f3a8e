// The `info` command: what a checkpoint holds (configuration, progress, tensors, curves).
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "eqprop/io/checkpoint.hpp"
#include "eqprop/io/metrics.hpp"
#include "eqprop/app/commands.hpp"

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
nlohmann::json info_json(const std::string& path, const CheckpointInfo& info, const TrainState& st) {
  nlohmann::json j;
  j["checkpoint"] = path;
  j["format"] = info.format;
  j["payload_bytes"] = info.payload_bytes;
  j["has_particles"] = info.has_particles;
  j["epochs_done"] = st.epochs_done;
  j["epochs"] = st.cfg.epochs;
  j["in_epoch"] = st.in_epoch;
  j["cursor"] = st.cursor;
  const DataFacts& f = st.cfg.facts;
  j["data"] = {{"channels", f.channels}, {"height", f.height}, {"width", f.width}, {"classes", f.classes},
               {"mean", f.mean}, {"stddev", f.stddev}};
  // The configuration as its config-file lines say it: key -> value text.
  nlohmann::json cfg = nlohmann::json::object();
  std::istringstream lines(format_config(st.cfg));
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) cfg[line.substr(0, eq)] = line.substr(eq + 3);
  }
  j["config"] = cfg;
  nlohmann::json tensors = nlohmann::json::object();
  for (int k = 1; k <= st.net.layers(); ++k) {
    tensors["W" + std::to_string(k)] = st.net.weight_dims(k);
    tensors["b" + std::to_string(k)] = {st.net.b[k].size()};
  }
  j["tensors"] = tensors;
  nlohmann::json curves = nlohmann::json::array();
  const int phases = st.cfg.nudging == Nudging::Symmetric ? 2 : 1;
  for (const auto& e : st.curves) curves.push_back(nlohmann::json::parse(epoch_json(e, int(st.order.size()), phases)));
  j["curves"] = curves;
  return j;
}

}  // namespace

int run_info(const Words& args, std::ostream& out, std::ostream&, const Runtime&) {
  const FileArgs a = parse_file_args(args, Command::Info);
  if (a.help) return out << help_text(Command::Info), 0;
  CheckpointInfo info;
  const TrainState st = load_checkpoint(a.checkpoint, &info);
  if (a.json) return out << info_json(a.checkpoint, info, st).dump() << "\n", 0;
  out << "checkpoint " << a.checkpoint << ": format version " << info.format << ", " << info.payload_bytes
      << " payload bytes, " << (info.has_particles ? "with particles" : "model only (no particles)") << "\n";
  out << "progress: " << st.epochs_done << " of " << st.cfg.epochs << " epochs done";
  if (st.in_epoch) out << "; inside epoch " << st.epochs_done + 1 << " at sample " << st.cursor << " of " << st.order.size();
  out << "\ndata: examples of " << st.cfg.facts.text();
  for (std::size_t c = 0; c < st.cfg.facts.mean.size(); ++c)
    out << (c ? ", " : "; normalised per channel, mean/std ") << st.cfg.facts.mean[c] << "/" << st.cfg.facts.stddev[c];
  out << "\n\nconfiguration:\n" << format_config(st.cfg) << "\ntensors (float32, row-major):\n";
  for (int k = 1; k <= st.net.layers(); ++k) {
    out << "  W" << k << "  ";
    const auto dims = st.net.weight_dims(k);
    for (std::size_t d = 0; d < dims.size(); ++d) out << (d ? " x " : "") << dims[d];
    out << "\n";
  }
  for (int k = 0; k <= st.net.layers(); ++k) out << "  b" << k << "  " << st.net.b[k].size() << "\n";
  if (info.has_particles) {
    out << "  train particles  " << shape_of(st.train_particles, st.net.sizes) << "\n"
        << "  valid particles  " << shape_of(st.valid_particles, st.net.sizes) << "\n";
  }
  out << "\ntraining curves:\n";
  if (st.curves.empty()) out << "  (no finished epoch)\n";
  const bool early = st.cfg.relax == RelaxScheme::Alternating || st.cfg.tol > 0.f;
  const int phases = st.cfg.nudging == Nudging::Symmetric ? 2 : 1;
  if (!st.curves.empty()) out << epoch_header(st.net.layers(), early) << "\n";
  const int train_count = static_cast<int>(st.order.size());
  for (const auto& e : st.curves) out << epoch_line(e, train_count, early ? phases : 0) << "\n";
  return 0;
}

}  // namespace eqprop
