// Distribution: the hooks through which a Trainer's work is split among processes. This class
// is the one process of a plain run: it relaxes every chunk and keeps every particle, and each
// hook does nothing. dist/sharded.hpp overrides the hooks for the ranks of mpirun, the way
// LightGBM's data-parallel tree learner overrides a few hooks of the serial learner: the engine
// knows the points where processes must meet, never how they talk.
#pragma once
#include <algorithm>
#include <functional>
#include <vector>

#include "eqprop/config.hpp"
#include "eqprop/ep/states.hpp"
#include "eqprop/ep/train_state.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/engine/minibatch.hpp"

namespace eqprop {

// A run of items [first, first + count).
struct Share {
  int first = 0, count = 0;
};
// The rows [first, first + count) that `share`'s chunks of `chunk` rows cover among n rows.
inline Share rows_of(const Share& share, int chunk, int n) {
  const int first = std::min(n, share.first * chunk);
  return Share{first, std::min(n, (share.first + share.count) * chunk) - first};
}

class Distribution {
 public:
  virtual ~Distribution() = default;
  virtual int ranks() const { return 1; }

  // A resumed state's particles against the splits (throws ConfigError naming the key).
  virtual void check_resumed(const TrainState& st, const Dataset& train, const Dataset& valid) const;
  // Gives st its particles for this process: the ones it holds (restore, a resumed run with
  // particles) or zeros (a fresh run, or a model-only checkpoint, as the reference code's reload).
  virtual void place_particles(TrainState& st, int train_count, int valid_count, bool restore);
  // The epoch's order was just drawn (shuffle): particles may have to move.
  virtual void reorder(TrainState& st) { (void)st; }

  // Which of a minibatch's `chunks` chunks this process relaxes, and of an evaluation's.
  virtual Share train_chunks(int chunks) const { return {0, chunks}; }
  virtual Share eval_chunks(int chunks) const { return {0, chunks}; }
  // The row of training example e among this process's particles.
  virtual int particle_row(int e) const { return e; }

  // The exchange hook: called after this process relaxed its chunks of the minibatch and
  // before the update; afterwards mb holds every process's rows and chunk figures.
  virtual void exchange(Minibatch& mb, const Config& cfg, int chunk) { (void)mb, (void)cfg, (void)chunk; }
  // After an evaluation: parts[c] of every chunk on every process (each filled its own share).
  virtual void gather_stats(std::vector<StateStats>& parts) { (void)parts; }
  // Calls f with the whole state (every process's particles); across ranks on rank 0 only.
  virtual void with_full_state(const TrainState& st, const std::function<void(const TrainState&)>& f) const {
    f(st);
  }
  // Bytes each minibatch's exchange moves into every process (0 in one process).
  virtual long exchange_bytes() const { return 0; }
};

// Throws ConfigError when a resumed state's particles do not fit the splits.
void check_particle_counts(const TrainState& st, const Dataset& train, const Dataset& valid);
// Gives st zero particles for `train_rows` training and `valid_rows` validation examples, or
// none at all when the run keeps no particles (every free phase from zero): the one place of
// that rule for every Distribution.
void zero_particles(TrainState& st, int train_rows, int valid_rows);

}  // namespace eqprop
