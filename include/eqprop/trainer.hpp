// Trainer: owns one run's network, persistent particles, generator and buffers, and runs
// the minibatch step (free phase, nudged phase(s), update) and evaluation. Chunks of
// samples relax concurrently in oneTBB tasks, each in its own thread's Workspace.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include <tbb/enumerable_thread_specific.h>

#include "eqprop/config.hpp"
#include "eqprop/dataset.hpp"
#include "eqprop/dynamics.hpp"
#include "eqprop/network.hpp"
#include "eqprop/rng.hpp"
#include "eqprop/update.hpp"

namespace eqprop {

// Persistent particles: the last free-phase state of every example of a split.
using Particles = LayerStates<float>;  // h[k]: [examples x n_k]

// Per-thread scratch, allocated once per thread and reused for every chunk.
struct Workspace {
  LayerStates<float> cur, nxt;   // [cap x n_k] each: the relaxing state and the step's output
  std::vector<float> drive1;     // [cap x n_1]: x W_1 + b_1 (evaluation chunks)
  std::vector<float> scratch;    // [cap x max n_k]: energy terms
  Workspace(const std::vector<int>& sizes, int cap);
};

struct EpochStats {
  int epoch = 0;
  StateStats train;               // free-phase figures before each update (as the paper)
  StateStats valid;
  std::vector<double> rel_change; // per weight layer: |theta_end - theta_start| / |theta_start|
  double seconds = 0;             // wall time of the training pass and the validation pass
  double train_seconds = 0;       // the training pass alone
  double relax_seconds = 0;       // of which: gather, x W_1 and the free and nudged phases
  double update_seconds = 0;      // of which: the reducer
  double valid_seconds = 0;
};

class Trainer {
 public:
  // cfg must be validated. The data splits are borrowed and must outlive the Trainer.
  Trainer(const Config& cfg, const Dataset& train, const Dataset& valid);

  EpochStats train_epoch();
  // Free phase of `steps` from zero states (test set) or from particles (written back).
  StateStats evaluate(const Dataset& data, int steps, Particles* particles);
  StateStats evaluate_valid() { return evaluate(valid_, cfg_.n_free, &valid_particles_); }

  const Network& network() const { return net_; }
  int train_chunk() const { return std::min(cfg_.chunk, cfg_.batch); }
  int epoch() const { return epoch_; }

 private:
  StateStats train_minibatch(const std::int32_t* idx, float beta_signed);
  // Throws DivergenceError naming the layer if a parameter is not finite, or if the caller saw
  // a non-finite state.
  void check_finite(const char* where, bool state_nonfinite) const;

  Config cfg_;
  const Dataset& train_;
  const Dataset& valid_;
  Network net_;
  Rng rng_;
  Particles train_particles_, valid_particles_;
  std::vector<float> alphas_;
  std::vector<std::int32_t> order_;  // example order of this epoch
  // Minibatch buffers, shared by the chunk tasks; each task writes only its own rows.
  std::vector<float> mb_x_;          // [B x 784]: the minibatch's inputs, gathered
  std::vector<std::uint8_t> mb_y_;   // [B]
  std::vector<float> mb_drive1_;     // [B x n_1]: x W_1 + b_1, the clamped part of layer 1's drive
  std::vector<std::pair<int, int>> drive_blocks_;  // fixed column blocks (first, count) of W_1
  LayerStates<float> mb_free_, mb_nudged_, mb_nudged2_;  // [B x n_k] each
  std::vector<StateStats> chunk_stats_;  // one slot per chunk, summed in chunk order
  std::vector<float> diff_;          // [B x n_1]: h^a_1 - h^b_1, filled by the chunk tasks
  std::vector<UpdateBlock> blocks_;  // the reducer's fixed tasks
  tbb::enumerable_thread_specific<Workspace> workspaces_;
  int epoch_ = 0;
  double relax_seconds_ = 0, update_seconds_ = 0;  // this epoch's phase timings
};

}  // namespace eqprop
