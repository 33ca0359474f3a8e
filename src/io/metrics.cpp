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
