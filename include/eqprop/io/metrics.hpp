// Metrics: the per-epoch console line and the JSON-lines metrics file (--metrics PATH).
// Errors are in percent everywhere; energy and cost are means per example.
#pragma once
#include <fstream>
#include <string>
#include <vector>

#include "eqprop/ep/train_state.hpp"

namespace eqprop {

double error_percent(const StateStats& s);
double mean_energy(const StateStats& s);
double mean_cost(const StateStats& s);
// nudged_phases > 0 (runs whose phases may stop early: relax alternating or tol > 0): a
// `steps` column before `seconds`, the mean free+nudged steps (sweeps) per phase of the
// epoch's training; 1 or 2 nudged phases per example (2: symmetric nudging).
std::string epoch_header(int weight_layers, bool steps = false);
std::string epoch_line(const EpochStats& e, int train_count, int nudged_phases = 0);
// The classes whose output unit was active in none of the examples of s (StateStats::active).
std::vector<int> dead_outputs(const StateStats& s);
// "# epoch E diagnostics: layer 1 61.2% at 0, 11.3% at 1; ...; output units never active: none":
// the shares of the training phase's free states (--diagnostics).
std::string diagnostics_line(const EpochStats& e);
// "# warning: ..." naming the dead output units of the epoch's training, or "" if none.
std::string dead_output_warning(const EpochStats& e);
// One JSON object (one line) per epoch, and the final test line. Each epoch's has the
// diagnostics: "saturation" (per layer, the shares at 0 and at 1) and "dead_outputs".
// With free_steps, nudged_steps (means per phase, as the steps column) and valid_steps.
std::string epoch_json(const EpochStats& e, int train_count, int nudged_phases = 1);
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
