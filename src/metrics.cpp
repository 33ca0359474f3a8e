#include "eqprop/metrics.hpp"

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
// JSON has no NaN or Infinity literals.
std::string json_number(double v) { return std::isfinite(v) ? fmt("%.9g", v) : "null"; }
}  // namespace

double error_percent(const StateStats& s) { return s.count > 0 ? 100.0 * s.errors / s.count : 0.0; }

std::string epoch_header(int weight_layers) {
  std::ostringstream os;
  os << "epoch  train_err%  valid_err%    energy      cost";
  for (int k = 1; k <= weight_layers; ++k) os << "  dW" << k << "/W" << k;
  os << "   seconds  samples/s";
  return os.str();
}

std::string epoch_line(const EpochStats& e, int train_count) {
  std::ostringstream os;
  os << fmt("%5.0f", e.epoch) << fmt("  %10.3f", error_percent(e.train)) << fmt("  %10.3f", error_percent(e.valid))
     << fmt("  %8.4f", mean(e.train.energy, e.train.count)) << fmt("  %8.5f", mean(e.train.cost, e.train.count));
  for (double r : e.rel_change) os << fmt("  %7.5f", r);
  os << fmt("  %8.2f", e.seconds) << fmt("  %9.0f", train_count / e.train_seconds);
  return os.str();
}

std::string epoch_json(const EpochStats& e, int train_count) {
  std::ostringstream os;
  os << "{\"epoch\": " << e.epoch << ", \"train_error\": " << json_number(error_percent(e.train))
     << ", \"valid_error\": " << json_number(error_percent(e.valid))
     << ", \"energy\": " << json_number(mean(e.train.energy, e.train.count))
     << ", \"cost\": " << json_number(mean(e.train.cost, e.train.count))
     << ", \"valid_energy\": " << json_number(mean(e.valid.energy, e.valid.count))
     << ", \"valid_cost\": " << json_number(mean(e.valid.cost, e.valid.count)) << ", \"rel_weight_change\": [";
  for (std::size_t k = 0; k < e.rel_change.size(); ++k) os << (k ? ", " : "") << json_number(e.rel_change[k]);
  os << "], \"seconds\": " << json_number(e.seconds)
     << ", \"samples_per_second\": " << json_number(train_count / e.train_seconds) << "}";
  return os.str();
}

std::string test_json(const StateStats& test, int steps, double seconds) {
  std::ostringstream os;
  os << "{\"test_error\": " << json_number(error_percent(test))
     << ", \"test_energy\": " << json_number(mean(test.energy, test.count))
     << ", \"test_cost\": " << json_number(mean(test.cost, test.count)) << ", \"test_steps\": " << steps
     << ", \"test_samples\": " << test.count << ", \"seconds\": " << json_number(seconds) << "}";
  return os.str();
}

MetricsFile::MetricsFile(const std::string& path) : path_(path) {
  if (path.empty()) return;
  out_.open(path, std::ios::out | std::ios::trunc);
  if (!out_) throw InputError("metrics file '" + path + "': cannot open for writing");
}

void MetricsFile::write(const std::string& json_line) {
  if (path_.empty()) return;
  out_ << json_line << '\n';
  out_.flush();
  if (!out_) throw std::runtime_error("metrics file '" + path_ + "': write failed");
}

}  // namespace eqprop
