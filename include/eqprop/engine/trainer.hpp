// Trainer: runs one training run's TrainState forward: the minibatch step (the chunks' free
// and nudged phases as oneTBB tasks, each in its own thread's Workspace, then the reducer), the
// end of an epoch (validation), and evaluation. Where processes must meet (across the ranks of
// mpirun) it calls the hooks of its Distribution; in one process they do nothing.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <tbb/enumerable_thread_specific.h>

#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/train_state.hpp"
#include "eqprop/ep/update.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/engine/distribution.hpp"
#include "eqprop/engine/drive_pipeline.hpp"
#include "eqprop/engine/minibatch.hpp"
#include "eqprop/engine/workspace.hpp"

namespace eqprop {

// Throws ConfigError naming both shapes when cfg asks for another network than state holds.
void check_resume_architecture(const TrainState& state, const Config& cfg);

// What the caller of train_pass() wants after each minibatch.
enum class Next { Continue, Stop };

// The minibatch a Trainer trained last: which examples, the signed beta its nudged phase used,
// and the figures of its free phase (before its update). For tracing a run minibatch by
// minibatch (the Python package's train_minibatches()); not training state, not checkpointed.
struct MinibatchRecord {
  int position = 0;  // its first sample in the epoch's order (examples order[position..+batch))
  float beta = 0;    // as the update used it: with beta-sign random, its sign is this minibatch's draw
  StateStats free;
};

class Trainer {
 public:
  // A fresh run: Glorot weights from cfg.seed, zero particles. cfg must be validated. The data
  // splits are borrowed and must outlive the Trainer. dist: how the work is split among
  // processes (null: one process); every process builds its Trainer with the same
  // configuration and data.
  Trainer(const Config& cfg, const Dataset& train, const Dataset& valid, std::unique_ptr<Distribution> dist = nullptr);
  // A resumed run. state.cfg is the configuration to continue with (validated); its
  // architecture and data sizes must match the state's tensors (throws ConfigError naming both).
  Trainer(TrainState state, const Dataset& train, const Dataset& valid, std::unique_ptr<Distribution> dist = nullptr);

  // Trains minibatches of the current epoch (starting it if needed) until the pass ends
  // (returns true) or after_minibatch returns Next::Stop (returns false; the state is then
  // consistent and can be saved and resumed exactly).
  bool train_pass(const std::function<Next(const Trainer&)>& after_minibatch = {});
  // After a finished pass: validation, relative weight change, one row of the curves.
  const EpochStats& finish_epoch();
  // train_pass() to the end, then finish_epoch().
  EpochStats train_epoch();

  // Free phase of `steps` from zero states (particles == nullptr) or from particles (written
  // back). Across processes each relaxes its share of the chunks, particles are its share of
  // the validation particles, and the figures reach every process.
  // scores (optional, one process): every example's class scores, [count x classes] (the
  // output states, or the readout's logits); the prediction is the first largest.
  StateStats evaluate(const Dataset& data, int steps, Particles* particles, std::vector<float>* scores = nullptr);
  // evaluate() from zero states in slices of `slice_chunks` chunks, calling go_on() before
  // every slice after the first so that a long evaluation (the test set of a convnet) can stop
  // in between: nullopt if go_on() said no. Every process calls go_on() as often, so it may
  // agree across ranks. The chunks and the order of their sum are evaluate()'s: the same bits.
  std::optional<StateStats> evaluate_in_slices(const Dataset& data, int steps, int slice_chunks,
                                               const std::function<bool()>& go_on);

  // The states of every layer for the examples of `data`, in one process: the free phase of
  // `steps` from zero states and, with beta != 0, then the nudged phase of `nudged_steps` at
  // beta toward data's labels from the free state (as training's). out: [count x n_k] per layer
  // (h[0] unused). The figures, and the class scores (optional, as evaluate()'s), are the free
  // phase's: the same chunks as evaluate(), so the same bits.
  StateStats relax_states(const Dataset& data, int steps, float beta, int nudged_steps, Particles& out,
                          std::vector<float>* scores = nullptr);

  // Calls f with the whole state (across processes: with every particle, on rank 0 only).
  void with_full_state(const std::function<void(const TrainState&)>& f) const { dist_->with_full_state(st_, f); }
  long exchange_bytes() const { return dist_->exchange_bytes(); }

  // Throws DivergenceError naming the layer and epoch if a weight or bias is NaN or infinite:
  // called before every checkpoint, so a diverged state never replaces a good file.
  void check_parameters() const { check_finite("before writing a checkpoint", false); }

  const TrainState& state() const { return st_; }
  // Empty until this object has trained a minibatch.
  const std::optional<MinibatchRecord>& last_minibatch() const { return last_; }
  const Network& network() const { return st_.net; }
  // The weights and biases to be set in place (the Python package's setters), shapes kept;
  // call it for each change, so that the next minibatch refreshes the layers' copies of W.
  Network& parameters() {
    layers_fresh_ = false;
    return st_.net;
  }
  // The thread count: not a training parameter, results do not depend on it.
  void set_threads(int threads) { st_.cfg.threads = threads; }
  int train_chunk() const { return st_.cfg.train_chunk(); }
  int samples_per_epoch() const { return (train_.count / st_.cfg.batch) * st_.cfg.batch; }
  // Nonzero inputs and samples over the minibatches trained by this object: the input units
  // the x W_1 and W_1-update products really used (flops.hpp).
  long input_nonzeros() const { return input_nonzeros_; }
  long input_samples() const { return input_samples_; }
  // Seconds of the minibatches trained by this object spent outside their parallel regions
  // (one thread's work whatever the thread count; bench prints its share).
  double serial_seconds() const { return serial_seconds_; }
  // The two parallel regions of the minibatches trained by this object, in seconds: each
  // region's wall time (fork to join), its tasks' time summed over the threads, and in each
  // minibatch the busiest thread's task time, summed. busy / (threads x wall) is the region's
  // parallel efficiency; busiest against busy / threads says how unevenly the threads were
  // loaded, and busy at N threads against busy at one how much slower the same work ran.
  struct RegionTimes {
    double wall = 0, busy = 0, busiest = 0;
  };
  const RegionTimes& relax_times() const { return relax_times_; }
  const RegionTimes& update_times() const { return update_times_; }

 private:
  void allocate_buffers();
  void match_velocity();  // st_.velocity: zeros shaped as the net with momentum, else empty
  void begin_epoch();
  StateStats train_minibatch(const std::int32_t* idx, float beta_signed);
  // Sets minibatch row `slot` of mb_.input to the input of `example`: its image, or with
  // max-shift or flip its image moved by this epoch's draw into that row of mb_.shifted
  // (tasks call this for their own rows only).
  void set_training_input(std::int32_t example, int slot);
  // The learning rates of the current epoch: alphas * lr_decay^(epochs done).
  const std::vector<float>& epoch_alphas();
  // Throws DivergenceError naming the layer if a parameter is not finite, or if the caller saw
  // a non-finite state.
  void check_finite(const char* where, bool state_nonfinite) const;

  TrainState st_;
  const Dataset& train_;
  const Dataset& valid_;
  std::unique_ptr<Distribution> dist_;
  Minibatch mb_;                     // the minibatch buffers the chunk tasks share
  std::vector<UpdateBlock> blocks_;  // the reducer's fixed tasks
  std::vector<float> alphas_now_;    // epoch_alphas()'s result
  InputCoding coding_;               // the inputs' values (st_.cfg.facts: channels, normalisation)
  std::optional<Layers<float>> layers_;  // the layers' kinds
  // Whether layers_ holds copies of the current W: a minibatch's update refreshes each layer
  // as its last block finishes (blocks_left_[k]: W_k's blocks still to run, per layer).
  bool layers_fresh_ = false;
  void refresh_layers();  // before a minibatch or an evaluation: all layers, unless fresh
  std::vector<int> layer_blocks_;  // [0..L]: how many of blocks_ update layer k
  std::unique_ptr<std::atomic<int>[]> blocks_left_;
  tbb::enumerable_thread_specific<Workspace> workspaces_;
  long input_nonzeros_ = 0;  // not training state: speed accounting only
  std::optional<MinibatchRecord> last_;  // not training state: for tracing
  long input_samples_ = 0;
  double serial_seconds_ = 0;  // not training state: speed accounting only
  RegionTimes relax_times_, update_times_;  // not training state: speed accounting only
  // With several threads: the drive by owned rows of W_1 (drive_pipeline.hpp), and which
  // thread sets which inputs, relaxes which chunks and updates which blocks (claims.hpp); set
  // up for the current thread count.
  DrivePipeline pipeline_;
  Claims fill_claims_, chunk_claims_, update_claims_;
  // The drive's parts: part t is the rows of the chunks thread t relaxes first (chunk k of the
  // share is in part chunk_claims_.owner(k)), ending at part_ends_[t + 1].
  std::vector<int> part_ends_;
  int pipeline_threads_ = 0, pipeline_chunks_ = -1;
  void configure_pipeline();
  // Adds the region's wall time and its threads' task times (Workspace::busy, then zeroed).
  void account_region(RegionTimes& times, double wall);
  // Runs task(ws) with this thread's Workspace and adds its time to ws.busy.
  template <typename Task>
  void timed_task(const Task& task) {
    const auto t = std::chrono::steady_clock::now();
    Workspace& ws = workspaces_.local();
    task(ws);
    ws.busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
};

}  // namespace eqprop
