// Trainer: runs one training run's TrainState forward: the minibatch step (free phase,
// nudged phase(s), update), the end of an epoch (validation), and evaluation. Chunks of
// samples relax concurrently in oneTBB tasks, each in its own thread's Workspace.
//
// Across the ranks of a Cluster (shard.hpp) each rank relaxes its run of every minibatch's
// chunks, then the ranks exchange the states of their samples (batch x layer widths, small)
// and every rank forms the same full update from the same rows in the same order: the
// parameters stay bit-identical on every rank and to one process. Each rank keeps only the
// particles of the samples it relaxes; state() then holds this rank's particles, and
// with_full_state() assembles the whole state on rank 0 for a checkpoint.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <tbb/enumerable_thread_specific.h>

#include "eqprop/cluster.hpp"
#include "eqprop/dataset.hpp"
#include "eqprop/shard.hpp"
#include "eqprop/train_state.hpp"
#include "eqprop/update.hpp"

namespace eqprop {

// Per-thread scratch, allocated once per thread and reused for every chunk.
struct Workspace {
  LayerStates<float> cur, nxt;   // [cap x n_k] each: the relaxing state and the step's output
  std::vector<float> drive1;     // [cap x n_1]: x W_1 + b_1 (evaluation chunks)
  SparseInput<float> input;      // the nonzero inputs of an evaluation chunk
  std::vector<float> scratch;    // [cap x max n_k]: energy terms
  Workspace() = default;
  Workspace(const std::vector<int>& sizes, int cap);
};

// Throws ConfigError naming both shapes when cfg asks for another network than state holds.
void check_resume_architecture(const TrainState& state, const Config& cfg);

// What the caller of train_pass() wants after each minibatch.
enum class Next { Continue, Stop };

class Trainer {
 public:
  // A fresh run: Glorot weights from cfg.seed, zero particles. cfg must be validated.
  // The data splits and the cluster are borrowed and must outlive the Trainer; every rank
  // constructs its Trainer with the same configuration and data.
  Trainer(const Config& cfg, const Dataset& train, const Dataset& valid, const Cluster& cluster = Cluster::solo());
  // A resumed run. state.cfg is the configuration to continue with (validated); its
  // architecture and data sizes must match the state's tensors (throws ConfigError naming both).
  // Across ranks only rank 0's state needs particles: they are sent to their ranks here.
  Trainer(TrainState state, const Dataset& train, const Dataset& valid, const Cluster& cluster = Cluster::solo());

  // Trains minibatches of the current epoch (starting it if needed) until the pass ends
  // (returns true) or after_minibatch returns Next::Stop (returns false; the state is then
  // consistent and can be saved and resumed exactly).
  bool train_pass(const std::function<Next(const Trainer&)>& after_minibatch = {});
  // After a finished pass: validation, relative weight change, one row of the curves.
  const EpochStats& finish_epoch();
  // train_pass() to the end, then finish_epoch().
  EpochStats train_epoch();

  // Free phase of `steps` from zero states (particles == nullptr) or from particles (written
  // back). Across ranks each rank relaxes its run of the chunks and particles must be its
  // share of the validation particles (ShardMap::by_chunk); the figures reach every rank.
  StateStats evaluate(const Dataset& data, int steps, Particles* particles);

  // Calls f with the whole state: this object's state in one process; across ranks
  // (collective) the state with every rank's particles, on rank 0 only.
  void with_full_state(const std::function<void(const TrainState&)>& f) const;
  // Bytes each minibatch's exchange moves into every rank (0 in one process).
  long exchange_bytes() const { return exchange_bytes_; }

  // Throws DivergenceError naming the layer and epoch if a weight or bias is NaN or infinite:
  // called before every checkpoint, so a diverged state never replaces a good file.
  void check_parameters() const { check_finite("before writing a checkpoint", false); }

  const TrainState& state() const { return st_; }
  const Network& network() const { return st_.net; }
  int train_chunk() const { return std::min(st_.cfg.chunk, st_.cfg.batch); }
  int samples_per_epoch() const { return (train_.count / st_.cfg.batch) * st_.cfg.batch; }
  // Nonzero inputs and samples over the minibatches trained by this object: the input units
  // the x W_1 and W_1-update products really used (flops.hpp).
  long input_nonzeros() const { return input_nonzeros_; }
  long input_samples() const { return input_samples_; }

 private:
  void allocate_buffers();
  void shard_particles(bool restore);
  // Across ranks: every rank's rows of the minibatch states and its chunk figures to every rank.
  void exchange_minibatch(int B, int chunk);
  void begin_epoch();
  StateStats train_minibatch(const std::int32_t* idx, float beta_signed);
  // The input of `example` in minibatch row `slot`: its image, or with max-shift its image
  // moved by this epoch's shift, written into that row of mb_shifted_ (tasks call this for
  // their own rows only).
  const float* training_input(std::int32_t example, int slot);
  // The learning rates of the current epoch: alphas * lr_decay^(epochs done).
  const std::vector<float>& epoch_alphas();
  // Throws DivergenceError naming the layer if a parameter is not finite, or if the caller saw
  // a non-finite state.
  void check_finite(const char* where, bool state_nonfinite) const;

  TrainState st_;
  const Dataset& train_;
  const Dataset& valid_;
  const Cluster& cluster_;
  ShardMap train_map_, valid_map_;   // who keeps which particle (identity in one process)
  Share chunks_;                     // this rank's run of each minibatch's chunks
  std::vector<char> xchg_send_, xchg_recv_;      // the exchange's packed rows
  std::vector<int> xchg_counts_, xchg_offsets_;  // bytes per rank
  long exchange_bytes_ = 0;
  // Minibatch buffers, shared by the chunk tasks; each task writes only its own rows.
  SparseInput<float> mb_input_;      // the minibatch's inputs: their nonzero entries
  std::vector<std::uint8_t> mb_y_;   // [B]
  std::vector<float> mb_shifted_;    // [B x 784] with max-shift: the minibatch's moved images (else empty)
  std::vector<float> mb_drive1_;     // [B x n_1]: x W_1 + b_1, the clamped part of layer 1's drive
  LayerStates<float> mb_free_, mb_nudged_, mb_nudged2_;  // [B x n_k] each
  std::vector<StateStats> chunk_stats_;  // one slot per chunk, summed in chunk order
  std::vector<float> diff_;          // [B x n_1]: h^a_1 - h^b_1, filled by the chunk tasks
  std::vector<UpdateBlock> blocks_;  // the reducer's fixed tasks
  std::vector<float> alphas_now_;    // epoch_alphas()'s result
  NarrowTop<float> top_;             // W_L^T, refreshed before every minibatch and evaluation
  tbb::enumerable_thread_specific<Workspace> workspaces_;
  long input_nonzeros_ = 0;  // not training state: speed accounting only
  long input_samples_ = 0;
};

}  // namespace eqprop
