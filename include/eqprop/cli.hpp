// The command line and config files of `eqprop train` and `eqprop bench`: one Program_options table that
// gives --help, the config-file keys and --dump-config alike. The command line wins over
// the config file; unknown options and keys are errors.
#pragma once
#include <string>
#include <vector>

#include "eqprop/config.hpp"

namespace eqprop {

enum class Command { Train, Bench };

struct TrainArgs {
  Config cfg;                 // validated
  bool help = false;          // print train_help() and exit
  bool dump_config = false;   // print format_config(cfg) and exit
};

// args: the words after `eqprop train`. Throws ConfigError on any bad option or value.
// bench takes the same options, with 5000 training samples by default.
TrainArgs parse_train_args(const std::vector<std::string>& args, Command cmd = Command::Train);
std::string help_text(Command cmd);
// The effective configuration in config-file syntax (what --dump-config prints).
std::string format_config(const Config& cfg);

}  // namespace eqprop
