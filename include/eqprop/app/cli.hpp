// The command line and config files of `eqprop train` and `eqprop bench`: one Program_options table that
// gives --help, the config-file keys and --dump-config alike. The command line wins over
// the config file; unknown options and keys are errors.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "eqprop/config.hpp"

namespace eqprop {

enum class Command { Train, Bench, Eval, Predict, Info, Export, MakeDataset };

struct TrainArgs {
  Config cfg;                 // validated
  bool help = false;          // print train_help() and exit
  bool dump_config = false;   // print format_config(cfg) and exit
};

// args: the words after `eqprop train`. Throws ConfigError on any bad option or value.
// bench takes the same options, with 5000 training samples by default. base: the defaults
// to layer the config file and command line over (a resumed checkpoint's configuration).
// validate = false: only to find --resume before the checkpoint's configuration is known.
// ranks: the processes of the run, which `--chunk auto` shares the minibatch over with the threads.
TrainArgs parse_train_args(const std::vector<std::string>& args, Command cmd = Command::Train,
                           const Config* base = nullptr, bool validate = true, int ranks = 1);

struct EvalArgs {
  std::string checkpoint, split = "test", data;  // data "": the checkpoint's data folder
  int threads = hardware_threads(), steps = 0;
  bool from_zero = false, help = false;
  bool per_class = false;  // errors per class and the confusion matrix
  bool json = false;       // one JSON object instead of text
  std::string relax;  // "": the run's scheme; sync or alternating
  std::optional<RelaxScheme> relax_scheme;  // relax parsed
  float tol = -1.f;   // < 0: the run's tolerance
};
EvalArgs parse_eval_args(const std::vector<std::string>& args);

// predict: a checkpoint's classes for the images of one file.
struct PredictArgs {
  std::string checkpoint, input, labels, output;  // output "": CSV on standard output
  int threads = hardware_threads(), steps = 0;    // steps 0: the run's test-steps
  bool states = false;                            // also every layer's relaxed states
  bool help = false;
};
PredictArgs parse_predict_args(const std::vector<std::string>& args);

// info and export: a checkpoint path (the first bare word or --checkpoint), export's --npz.
struct FileArgs {
  std::string checkpoint, npz;
  bool particles = false;  // export: the persistent particles too
  bool json = false;       // info: one JSON object instead of text
  bool help = false;
};
FileArgs parse_file_args(const std::vector<std::string>& args, Command cmd);

struct MakeDatasetArgs {
  bool help = false;
  std::string data = "data/mnist";  // MNIST's IDX folder
  std::string npz, cifar;           // outputs ("": not written)
};
MakeDatasetArgs parse_make_dataset_args(const std::vector<std::string>& args);

std::string help_text(Command cmd);
// The effective configuration in config-file syntax (what --dump-config prints).
std::string format_config(const Config& cfg);

}  // namespace eqprop
