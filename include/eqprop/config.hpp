// Config: every knob of a training run, with its default and meaning beside it.
// Config::validate() is the one place that checks values; library code trusts a
// validated Config and never re-checks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "eqprop/architecture.hpp"
#include "eqprop/data_facts.hpp"

namespace eqprop {

enum class Nudging { OneSided, Symmetric };
enum class BetaSign { Random, Positive };
// The data formats (io/sources.hpp): MNIST and Fashion-MNIST (IDX files of 28x28 images), any
// folder of IDX files, a NumPy .npz, the CIFAR-10 and CIFAR-100 binary versions.
enum class DatasetName { Mnist, FashionMnist, Idx, Npz, Cifar10, Cifar100 };
enum class LabelKind { Fine, Coarse };     // CIFAR-100's two labels (100 and 20 classes)
enum class Normalize { None, MeanStd };    // mean-std: per channel, from the training split
// sync: the paper's damped synchronous step of every layer; alternating: each layer set to its
// exact conditional minimum, odd layers then even layers (ep/alternating.hpp).
enum class RelaxScheme { Sync, Alternating };
// How a nudged phase relaxes: same as the free phase, or always the paper's damped synchronous
// steps (with alternating free phases: the exact free fixed point, then the paper's short nudge;
// docs/performance.md says why an exact nudged minimum does not train with a negative beta).
enum class NudgedRelax { Same, Sync };
// How the rates change over epochs: decay (alphas * lr-decay^(e-1); 1: constant, the paper) or
// cosine (alphas * (1 + cos(pi (e-1) / epochs)) / 2, Laborieux et al. 2021's annealing).
enum class LrSchedule { Decay, Cosine };
// The output: mse, the output layer in the dynamics with the cost sum (y - h_L)^2 (the paper);
// cross-entropy, a softmax readout of the last hidden layer, not in the dynamics (ep/readout.hpp).
enum class Readout { Mse, CrossEntropy };

// Where each data set is when --data is not given: MNIST as tools/fetch_mnist.sh leaves it,
// Fashion-MNIST as Debian's dataset-fashion-mnist package installs it (gzip IDX files); the
// other formats have no standard place ("": --data is required).
constexpr const char* kMnistDir = "data/mnist";
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
std::string default_data_dir(DatasetName d);

// The threads this process may use (affinity and cgroup limits included): the default of --threads.
int hardware_threads();

struct Config {
  // Architecture: inputs - hidden... - classes (inputs and classes from the data: facts).
  std::vector<int> hidden{500};         // hidden layer sizes, input to output
  std::vector<LayerSpec> layers;        // conv nets: the entries (architecture.hpp); empty: dense layers of `hidden`
  // Schedule.
  int epochs = 25;                      // passes over the training split
  int batch = 20;                       // minibatch size B
  int n_free = 20;                      // free-phase steps (reference code: n_it_neg)
  int n_nudged = 4;                     // nudged-phase steps (reference code: n_it_pos)
  int test_steps = 100;                 // free-phase steps from zero for the test set (no particles)
  Readout readout = Readout::Mse;       // the output layer and its cost (mse: the paper)
  RelaxScheme relax = RelaxScheme::Sync;  // how a phase relaxes (sync: the paper)
  NudgedRelax relax_nudged = NudgedRelax::Same;  // sync: nudged phases take the paper's damped steps
  float tol = 0.f;                      // a phase stops after the first step (sweep) whose largest state change
                                        // is below tol; n-free, n-nudged, test-steps the most (0: always all)
  float eps = 0.5f;                     // step size of the state update (sync only)
  float beta = 0.5f;                    // nudging strength (reference code's beta: C has no 1/2)
  std::vector<float> alphas{0.1f, 0.05f};  // learning rate per weight layer, input to output
  float lr_decay = 1.f;                 // epoch e (from 1) uses alphas * lr_decay^(e-1); 1: constant (paper)
  LrSchedule lr_schedule = LrSchedule::Decay;  // cosine: annealed to 0 over `epochs` (lr-decay must be 1)
  float weight_decay = 0.f;             // L2 penalty lambda: W_k shrinks by alpha_k * lambda per minibatch (0: paper)
  float momentum = 0.f;                 // SGD momentum mu: v = mu v + dW, W += alpha v (0: none, the paper)
  Nudging nudging = Nudging::OneSided;  // symmetric: phases at +beta and -beta (Laborieux 2021)
  BetaSign beta_sign = BetaSign::Random;  // random: sign of beta drawn per minibatch (paper)
  bool shuffle = false;                 // false: fixed minibatch order, as the paper
  bool persistent_particles = true;     // false: every free phase starts from zero (train and validation)
  int max_shift = 0;                    // move each training image by up to N pixels per axis, new each epoch (0: paper)
  bool flip = false;                    // mirror each training image left-right with probability 1/2, new each epoch
  std::uint64_t seed = 1;               // seeds weight init, beta signs and shuffling
  // Data.
  DatasetName dataset = DatasetName::Mnist;  // the format (see DatasetName)
  std::string data = kMnistDir;         // the data set's folder (IDX, CIFAR) or .npz file
  int classes = 0;                      // class count (0: the largest label + 1, or the format's own)
  LabelKind label = LabelKind::Fine;    // cifar100: fine (100 classes) or coarse (20)
  int valid_count = -1;                 // validation split = the last N training examples (-1: the format's
                                        // default: 10,000 for mnist and fashion-mnist, the file's own x_valid
                                        // for npz, else none)
  bool train_on_all = false;            // train on the whole training file: no validation split
  int train_samples = 0;                // use only the first N training examples (0: all)
  int valid_samples = 0;                // use only the first N validation examples (0: all)
  Normalize normalize = Normalize::None;  // mean-std: inputs (v - mean_c) / std_c, per channel
  // Not a key: the data's shape, class count and normalisation, filled in from the files by
  // the loader (a fresh run) or from the checkpoint (a resumed run). Defaults: MNIST's.
  DataFacts facts;
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
  std::string keep_best;                // a checkpoint of the epoch with the lowest validation error ("" = none)
  int patience = 0;                     // stop when validation has not improved for N epochs (0: never)
  bool diagnostics = false;             // a line per epoch: shares of saturated units, dead output units
  int max_minibatches = 0;              // stop (and checkpoint) after N minibatches (0: no limit)
  bool progress = true;                 // progress line on stderr during an epoch

  // Throws ConfigError naming the key, the value found and what is expected.
  void validate() const;
  // Checks what depends on the data: the split keys against the examples the files hold
  // (train_available: the training file's, or the training split's when the file has its own
  // validation split) and max-shift against the image size. Throws ConfigError naming the key.
  void validate_data(const DataFacts& f, int train_available, int valid_available) const;
  // Layer sizes including input (facts.inputs()) and output (facts.classes); a conv layer's
  // is C x H x W. Throws ConfigError (key 'layers') when an entry does not fit the data's shape.
  std::vector<int> layer_sizes() const;
  // The hidden layers as entries: `layers`, or dense layers of `hidden`.
  std::vector<LayerSpec> entries() const { return layers.empty() ? dense_layers(hidden) : layers; }
  // The entry of every weight layer W_1..W_L: entries() and the output's.
  std::vector<LayerSpec> weight_entries() const {
    std::vector<LayerSpec> e = entries();
    e.push_back(output_entry(facts));
    return e;
  }
  // Whether checkpoints carry the particles. Without persistent particles every free phase
  // starts from zero, so the particles hold nothing a resume needs: the checkpoint is the model
  // alone (1.35 GB fewer bytes per write for conv-mnist.cfg on MNIST).
  bool saves_particles() const { return checkpoint_particles && persistent_particles; }
  bool convolutional() const {
    for (const LayerSpec& s : layers)
      if (s.type == LayerType::Conv) return true;
    return false;
  }
  // Samples per training chunk (chunk capped at batch) and chunks per minibatch: fixed by the
  // configuration alone, never by the thread or rank count.
  int train_chunk() const { return chunk < batch ? chunk : batch; }
  int train_chunks() const { return (batch + train_chunk() - 1) / train_chunk(); }
  // The factor of alphas in the epoch after `epochs_done` finished ones (lr-schedule, lr-decay),
  // in double; computed from the configuration alone, so a resumed run gets the same rates.
  double rate_scale(int epochs_done) const;
};

// The bytes a training run holds at its peak: the data (its files' examples as read, bytes
// or float32, and the validation split's copy), the weights three times (live, the epoch's
// start, the checkpoint buffer) and the particles twice (live, the checkpoint buffer).
struct MemoryEstimate {
  double data = 0, weights = 0, particles = 0;
  double total() const { return data + weights + particles; }
};
// file_examples: examples in the data files (all splits); train_examples, valid_examples: the
// splits' (each example keeps one state per layer); value_bytes: 1 (uint8) or 4 (float32).
MemoryEstimate estimate_memory(const Config& cfg, double file_examples, double train_examples, double valid_examples,
                               int value_bytes);
std::string describe(const MemoryEstimate& m);  // "2.1 GiB (data 1.1, weights ..., particles ...)"
// Throws ConfigError with the estimate and its parts when it exceeds memory_limit(), naming it.
void check_memory(const MemoryEstimate& m);

// The memory this process may use: the lower of the machine's physical memory and the limit
// of its cgroup (v2 memory.max, v1 memory.limit_in_bytes, of its cgroup and every ancestor,
// as containers and Slurm jobs set them), and which of the two it is ("physical memory", or
// the limit file's path). cgroup_root: where the cgroup file systems are mounted
// (/sys/fs/cgroup; the tests point it at a fake tree through EQPROP_CGROUP_ROOT).
struct MemoryLimit {
  double bytes = 0;
  std::string source;
};
MemoryLimit memory_limit(const std::string& cgroup_root = "");

std::string to_string(Nudging n);
std::string to_string(BetaSign s);
std::string to_string(DatasetName d);
std::string to_string(LabelKind k);
std::string to_string(Normalize n);
std::string to_string(RelaxScheme r);
std::string to_string(NudgedRelax r);
std::string to_string(LrSchedule s);
std::string to_string(Readout r);

}  // namespace eqprop
