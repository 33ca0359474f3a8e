#include "eqprop/io/metrics.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

#include "eqprop/error.hpp"

namespace eqprop {
namespace {
double mean(double sum, long count) { return count > 0 ? sum / count : 0.0; }
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
// JSON has no NaN or Infinity: such a value is written as null.
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

double error_percent(const StateStats& s) { return s.count > 0 ? 100.0 * s.errors / s.count : 0.0; }
double mean_energy(const StateStats& s) { return mean(s.energy, s.count); }
double mean_cost(const StateStats& s) { return mean(s.cost, s.count); }

std::string epoch_header(int weight_layers, bool steps) {
  std::ostringstream os;
  os << "epoch  train_err%  valid_err%    energy      cost";
  for (int k = 1; k <= weight_layers; ++k) os << "  dW" << k << "/W" << k;
  if (steps) os << "        steps";
  os << "   seconds  samples/s";
  return os.str();
}

std::string epoch_line(const EpochStats& e, int train_count, int nudged_phases) {
  std::ostringstream os;
  // No validation split (train-on-all): a dash, not a made-up 0.
  os << fmt("%5.0f", e.epoch) << fmt("  %10.3f", error_percent(e.train))
     << (e.valid.count > 0 ? fmt("  %10.3f", error_percent(e.valid)) : std::string("           -"))
     << fmt("  %8.4f", mean_energy(e.train)) << fmt("  %8.5f", mean_cost(e.train));
  for (double r : e.rel_change) os << fmt("  %7.5f", r);
  if (nudged_phases > 0) {
    const double n = e.train.count > 0 ? double(e.train.count) : 1.0;
    os << fmt("  %5.1f", e.train.free_steps / n) << fmt("+%5.1f", e.train.nudged_steps / (n * nudged_phases));
  }
  os << fmt("  %8.2f", e.seconds) << fmt("  %9.0f", e.train_seconds > 0 ? train_count / e.train_seconds : 0.0);
  return os.str();
}

std::vector<int> dead_outputs(const StateStats& s) {
  std::vector<int> dead;
  if (s.count == 0) return dead;
  for (std::size_t j = 0; j < s.active.size(); ++j)
    if (s.active[j] == 0) dead.push_back(int(j));
  return dead;
}

namespace {
// Percent of layer k's counted units among those of `counts`.
double share(const std::vector<double>& counts, const StateStats& s, std::size_t k) {
  return k < s.units.size() && s.units[k] > 0 ? 100.0 * counts[k] / s.units[k] : 0.0;
}
}  // namespace

std::string diagnostics_line(const EpochStats& e) {
  std::ostringstream os;
  os << "# epoch " << e.epoch << " diagnostics (training free phases):";
  const StateStats& s = e.train;
  for (std::size_t k = 1; k < s.at0.size() && k < s.units.size(); ++k) {
    if (s.units[k] == 0) continue;
    os << (k > 1 ? ";" : "") << " layer " << k << " " << fmt("%.1f", share(s.at0, s, k)) << "% at 0, "
       << fmt("%.1f", share(s.at1, s, k)) << "% at 1";
  }
  const std::vector<int> dead = dead_outputs(s);
  os << "; output units never active: ";
  if (dead.empty()) os << "none";
  for (std::size_t i = 0; i < dead.size(); ++i) os << (i ? ", " : "") << dead[i];
  return os.str();
}

std::string dead_output_warning(const EpochStats& e) {
  const std::vector<int> dead = dead_outputs(e.train);
  if (dead.empty()) return "";
  std::ostringstream os;
  os << "# warning: output unit" << (dead.size() > 1 ? "s " : " ");
  for (std::size_t i = 0; i < dead.size(); ++i) os << (i ? ", " : "") << dead[i];
  os << (dead.size() > 1 ? " were" : " was") << " never active in epoch " << e.epoch
     << "'s training (the class is never predicted; docs/usage.md, Around training)";
  return os.str();
}

std::string epoch_json(const EpochStats& e, int train_count, int nudged_phases) {
  nlohmann::json j;
  j["epoch"] = e.epoch;
  const double none = std::nan("");  // no such split: written as null
  const double n = double(e.train.count);
  j["free_steps"] = number(n > 0 ? e.train.free_steps / n : none);
  j["nudged_steps"] = number(n > 0 ? e.train.nudged_steps / (n * std::max(nudged_phases, 1)) : none);
  j["valid_steps"] = number(e.valid.count > 0 ? e.valid.free_steps / double(e.valid.count) : none);
  j["train_error"] = number(error_percent(e.train));
  j["valid_error"] = number(e.valid.count > 0 ? error_percent(e.valid) : none);
  j["energy"] = number(mean_energy(e.train));
  j["cost"] = number(mean_cost(e.train));
  j["valid_energy"] = number(e.valid.count > 0 ? mean_energy(e.valid) : none);
  j["valid_cost"] = number(e.valid.count > 0 ? mean_cost(e.valid) : none);
  nlohmann::json rel = nlohmann::json::array();
  for (double r : e.rel_change) rel.push_back(number(r));
  j["rel_weight_change"] = rel;
  j["seconds"] = number(e.seconds);
  j["samples_per_second"] = number(e.train_seconds > 0 ? train_count / e.train_seconds : 0.0);
  j["threads"] = e.threads;
  nlohmann::json sat = nlohmann::json::array();
  for (std::size_t k = 1; k < e.train.at0.size() && k < e.train.units.size(); ++k) {
    if (e.train.units[k] == 0) continue;
    sat.push_back({{"layer", k}, {"at0", share(e.train.at0, e.train, k)}, {"at1", share(e.train.at1, e.train, k)}});
  }
  j["saturation"] = sat;
  j["dead_outputs"] = dead_outputs(e.train);
  return j.dump();
}

std::string test_json(const StateStats& test, int steps, double seconds) {
  nlohmann::json j;
  const double none = std::nan("");  // no test split: written as null
  j["test_error"] = number(test.count > 0 ? error_percent(test) : none);
  j["test_energy"] = number(test.count > 0 ? mean_energy(test) : none);
  j["test_cost"] = number(test.count > 0 ? mean_cost(test) : none);
  j["test_steps"] = steps;
  j["test_samples"] = test.count;
  j["seconds"] = number(seconds);
  return j.dump();
}

MetricsFile::MetricsFile(const std::string& path, bool append) : path_(path) {
  if (path.empty()) return;
  out_.open(path, append ? std::ios::out | std::ios::app : std::ios::out | std::ios::trunc);
  if (!out_) throw InputError("metrics file '" + path + "': cannot open for writing");
}

void MetricsFile::write(const std::string& json_line) {
  if (path_.empty()) return;
  out_ << json_line << '\n';
  out_.flush();
  if (!out_) throw std::runtime_error("metrics file '" + path_ + "': write failed");
}

}  // namespace eqprop
