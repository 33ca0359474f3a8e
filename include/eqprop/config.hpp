// Config: every knob of a training run, with its default and meaning beside it.
// Config::validate() is the one place that checks values; library code trusts a
// validated Config and never re-checks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eqprop {

enum class Nudging { OneSided, Symmetric };
enum class BetaSign { Random, Positive };
enum class DatasetName { Mnist, FashionMnist };

// Where each data set is when --data is not given: MNIST as tools/fetch_mnist.sh leaves it,
// Fashion-MNIST as Debian's dataset-fashion-mnist package installs it (gzip IDX files).
constexpr const char* kMnistDir = "data/mnist";
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
std::string default_data_dir(DatasetName d);

// The threads this process may use (affinity and cgroup limits included): the default of --threads.
int hardware_threads();

struct Config {
  // Architecture: 784 - hidden... - 10.
  std::vector<int> hidden{500};         // hidden layer sizes, input to output
  // Schedule.
  int epochs = 25;                      // passes over the training split
  int batch = 20;                       // minibatch size B
  int n_free = 20;                      // free-phase steps (reference code: n_it_neg)
  int n_nudged = 4;                     // nudged-phase steps (reference code: n_it_pos)
  int test_steps = 100;                 // free-phase steps from zero for the test set (no particles)
  float eps = 0.5f;                     // step size of the state update
  float beta = 0.5f;                    // nudging strength (reference code's beta: C has no 1/2)
  std::vector<float> alphas{0.1f, 0.05f};  // learning rate per weight layer, input to output
  float lr_decay = 1.f;                 // epoch e (from 1) uses alphas * lr_decay^(e-1); 1: constant (paper)
  float weight_decay = 0.f;             // L2 penalty lambda: W_k shrinks by alpha_k * lambda per minibatch (0: paper)
  Nudging nudging = Nudging::OneSided;  // symmetric: phases at +beta and -beta (Laborieux 2021)
  BetaSign beta_sign = BetaSign::Random;  // random: sign of beta drawn per minibatch (paper)
  bool shuffle = false;                 // false: fixed minibatch order, as the paper
  bool persistent_particles = true;     // false: every free phase starts from zero (train and validation)
  int max_shift = 0;                    // move each training image by up to N pixels per axis, new each epoch (0: paper)
  std::uint64_t seed = 1;               // seeds weight init, beta signs and shuffling
  // Data.
  DatasetName dataset = DatasetName::Mnist;  // mnist or fashion-mnist (same IDX layout, 28x28, 10 classes)
  std::string data = kMnistDir;         // folder with the data set's four IDX files (raw or .gz)
  bool train_on_all = false;            // train on all 60,000 training images: no validation split
  int train_samples = 0;                // use only the first N training examples (0: all 50,000, or 60,000)
  int valid_samples = 0;                // use only the first N validation examples (0: all 10,000)
  // Engine.
  int threads = hardware_threads();     // TBB worker limit for the whole run
  int chunk = 10;                       // samples per training task (fixed, not per thread; capped at batch)
  int eval_chunk = 250;                 // samples per task in evaluation
  // Output and run control.
  std::string metrics;                  // JSON-lines metrics file ("" = none); appended to on resume
  std::string checkpoint;               // checkpoint written every epoch ("" = none)
  int checkpoint_every = 0;             // also every N minibatches (0: only at epoch ends)
  bool checkpoint_particles = true;     // false: model-only checkpoints (particles restart at 0)
  std::string resume;                   // continue from this checkpoint ("" = a fresh run)
  int max_minibatches = 0;              // stop (and checkpoint) after N minibatches (0: no limit)
  bool progress = true;                 // progress line on stderr during an epoch

  // Throws ConfigError naming the key, the value found and what is expected.
  void validate() const;
  // Layer sizes including input (784) and output (10).
  std::vector<int> layer_sizes() const;
  // Samples per training chunk (chunk capped at batch) and chunks per minibatch: fixed by the
  // configuration alone, never by the thread or rank count.
  int train_chunk() const { return chunk < batch ? chunk : batch; }
  int train_chunks() const { return (batch + train_chunk() - 1) / train_chunk(); }
};

// Throws ConfigError, with the estimate and its parts, when the bytes a training run with cfg
// holds at its peak exceed the machine's physical memory: refused before anything is
// allocated. The peak: the data set while it is being split, the weights three times (live,
// the epoch's start, the checkpoint buffer) and the particles twice (live, the checkpoint buffer).
void check_memory(const Config& cfg);

std::string to_string(Nudging n);
std::string to_string(BetaSign s);
std::string to_string(DatasetName d);

}  // namespace eqprop
