// The command line and config files of `eqprop train`: one Program_options table that
// gives --help, the config-file keys and --dump-config alike. The command line wins over
// the config file; unknown options and keys are errors.
#pragma once
#include <string>
#include <vector>

#include "eqprop/config.hpp"

namespace eqprop {

struct TrainArgs {
  Config cfg;                 // validated
  bool help = false;          // print train_help() and exit
  bool dump_config = false;   // print format_config(cfg) and exit
};

// args: the words after `eqprop train`. Throws ConfigError on any bad option or value.
TrainArgs parse_train_args(const std::vector<std::string>& args);
std::string train_help();
// The effective configuration in config-file syntax (what --dump-config prints).
std::string format_config(const Config& cfg);

}  // namespace eqprop
