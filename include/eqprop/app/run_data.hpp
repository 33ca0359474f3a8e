// The data of a command's run: the data set its configuration names, loaded and checked
// against the run. A fresh run takes its data facts (shape, classes, normalisation) from the
// files; a resumed run, or eval of a checkpoint, must find data of the shape it was trained on
// and keeps its own normalisation. Then the memory the run needs is checked.
#pragma once
#include <string>

#include "eqprop/config.hpp"
#include "eqprop/io/dataset.hpp"

namespace eqprop {

// resumed_from: the checkpoint of a resumed run or an eval ("" for a fresh run).
Splits load_run_data(Config& cfg, const std::string& resumed_from);

// One line for the run's log: "60000 train, 10000 valid, 10000 test examples of 1x28x28, 10 classes from PATH".
std::string data_summary(const Config& cfg, const Splits& data);

}  // namespace eqprop
