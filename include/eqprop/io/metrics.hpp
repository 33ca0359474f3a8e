// Metrics: the per-epoch console line and the JSON-lines metrics file (--metrics PATH).
// Errors are in percent everywhere; energy and cost are means per example.
#pragma once
#include <fstream>
#include <string>

#include "eqprop/ep/train_state.hpp"

namespace eqprop {

double error_percent(const StateStats& s);
double mean_energy(const StateStats& s);
double mean_cost(const StateStats& s);
std::string epoch_header(int weight_layers);
std::string epoch_line(const EpochStats& e, int train_count);
// One JSON object (one line) per epoch, and the final test line.
std::string epoch_json(const EpochStats& e, int train_count);
std::string test_json(const StateStats& test, int steps, double seconds);

// A JSON-lines file, opened (and so checked writable) before any training starts;
// each line is flushed as it is written so a killed run keeps what it reported.
class MetricsFile {
 public:
  MetricsFile(const std::string& path, bool append);  // "" = no file
  void write(const std::string& json_line);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace eqprop
