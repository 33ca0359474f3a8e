// TrainState: everything a run needs to continue exactly where it stopped, and so what a
// checkpoint holds. Everything else the Trainer owns is scratch.
#pragma once
#include <cstdint>
#include <vector>

#include "eqprop/config.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/states.hpp"
#include "eqprop/rng.hpp"

namespace eqprop {

// Persistent particles: the last free-phase state of every example of a split.
using Particles = LayerStates<float>;  // h[k]: [examples x n_k]

// The figures of one epoch: one row of the training curves.
struct EpochStats {
  int epoch = 0;
  StateStats train;                // free-phase figures before each update (as the paper)
  StateStats valid;
  std::vector<double> rel_change;  // per weight layer: |theta_end - theta_start| / |theta_start|
  double seconds = 0;              // wall time of the training pass and the validation pass
  double train_seconds = 0;        // the training pass alone
  double relax_seconds = 0;        // of which: gather, x W_1 and the free and nudged phases
  double update_seconds = 0;       // of which: the reducer
  double valid_seconds = 0;
  int threads = 0;                 // TBB thread limit the epoch ran with
};

struct TrainState {
  Config cfg;                       // the configuration the run was started or resumed with
  Network net;
  Rng rng;                          // weight init, then one sign of beta per minibatch, shuffles
  int epochs_done = 0;
  bool in_epoch = false;            // the current epoch's training pass has begun
  int cursor = 0;                   // samples of the current epoch already trained
  std::vector<std::int32_t> order;  // the current epoch's example order
  EpochStats current;               // the current epoch's figures so far
  Network epoch_start;              // parameters when the current epoch began
  std::vector<EpochStats> curves;   // one entry per finished epoch
  Network velocity;                 // momentum > 0: SGD's velocity of every W_k, b_k, shaped as net; else empty
  bool has_particles = true;        // false: a model-only checkpoint (particles restart at 0)
  Particles train_particles, valid_particles;
};

}  // namespace eqprop
