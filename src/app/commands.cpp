#include "eqprop/app/commands.hpp"

#include <stdexcept>

namespace eqprop {

const std::vector<CommandEntry>& command_table() {
  // clang-format off
  static const std::vector<CommandEntry> table{
    {Command::Train, "train", "train a network with Equilibrium Propagation, with checkpoints and resume",
     "eqprop train [--config FILE] [options]",
     "Trains a layered Hopfield network on MNIST with Equilibrium Propagation\n"
     "(Scellier & Bengio 2017). Defaults are the paper's net1; see configs/.",
     run_train, true},
    {Command::Eval, "eval", "error, energy and cost of a saved model on a split",
     "eqprop eval --checkpoint PATH [--split train|valid|test] [--threads N]",
     "Error rate, mean energy and cost of a saved model on a split. The training and\n"
     "validation splits start from their saved particles when the checkpoint has them\n"
     "(as training does); the test split, or --from-zero, starts from zero states.",
     run_eval, false},
    {Command::Predict, "predict", "classes, scores and optionally the relaxed states of a saved model for a file of images",
     "eqprop predict --checkpoint PATH --input FILE [--labels FILE] [--output OUT.csv|.npy|.npz] [--states]",
     "Relaxes the saved model's free phase from zero states for every image of FILE (as\n"
     "eval does for the test split) and writes the predicted class (the first largest\n"
     "score), the class scores (the output states, or the cross-entropy readout's logits)\n"
     "and with --states every layer's states. With labels (in the file, or --labels) it\n"
     "also reports the error; on the run's test files it counts the same errors as eval.",
     run_predict, false},
    {Command::Info, "info", "what a checkpoint holds: configuration, progress, curves, tensor shapes",
     "eqprop info PATH",
     "Format version, configuration, progress, training curves and tensor shapes of a\n"
     "checkpoint (the data set is not read).",
     run_info, false},
    {Command::Export, "export", "weights and biases of a checkpoint as a NumPy .npz archive",
     "eqprop export PATH --npz OUT.npz",
     "Weights and biases as a NumPy .npz archive of float32 arrays W1..WL ([n_{k-1} x n_k]; a conv layer's\n"
     "[C_k x C_{k-1} x K x K])\n"
     "and b0..bL: numpy.load('OUT.npz')['W1']; with --particles also the saved particles.",
     run_export, false},
    {Command::Bench, "bench", "measure training and evaluation speed on MNIST",
     "eqprop bench [--config FILE] [options]",
     "Trains passes over the first --train-samples training images, each followed by an\n"
     "evaluation of --valid-samples validation images: one untimed warm-up pass, then\n"
     "three timed ones whose median it prints as one 'key value' line per measure:\n"
     "training and evaluation samples/s, achieved GFLOP/s (from an exact count of the\n"
     "multiply-adds of the step) and a plain single-thread sgemm GFLOP/s for comparison.",
     run_bench, false},
    {Command::MakeDataset, "make-dataset", "write MNIST as an .npz and as a CIFAR-10 binary folder",
     "eqprop make-dataset [--data DIR] [--npz OUT.npz] [--cifar OUTDIR]",
     "MNIST's IDX files rewritten in the other formats eqprop reads: an .npz of\n"
     "x_train, y_train, x_test, y_test (28x28 uint8, int64 labels), and a CIFAR-10 binary\n"
     "folder (each image padded to 32x32 and copied into 3 channels; data_batch_1..5.bin,\n"
     "test_batch.bin). For testing the npz and CIFAR paths on real images.",
     run_make_dataset, false},
  };
  // clang-format on
  return table;
}

const CommandEntry& command_entry(Command id) {
  for (const auto& c : command_table())
    if (c.id == id) return c;
  throw std::logic_error("command_entry: a Command without a row in the command table");
}

const CommandEntry* find_command(const std::string& name) {
  for (const auto& c : command_table())
    if (name == c.name) return &c;
  return nullptr;
}

std::string program_usage() {
  std::string s = "usage: eqprop <command> [options]   (eqprop <command> --help for each)\n\ncommands:\n";
  for (const auto& c : command_table()) {
    std::string name = c.name;
    name.resize(13, ' ');
    s += "  " + name + c.summary + "\n";
  }
  return s + "\neqprop --version prints the version.\n";
}

}  // namespace eqprop
