// The `train` command end to end: set up the runtime, load data, train, report.
#pragma once
#include <iosfwd>

#include "eqprop/config.hpp"

namespace eqprop {

// Trains as cfg says (cfg validated), printing the configuration, one line per epoch and
// the final test error to `out`. Throws on bad data or divergence.
void run_train(const Config& cfg, std::ostream& out);

}  // namespace eqprop
