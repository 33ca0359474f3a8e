// The Trainer's run of epochs and minibatches. One minibatch: the chunk tasks (minibatch.hpp),
// the exchange hook, then the reducer. The chunks and the update's blocks depend only on the
// configuration, never on the thread or process count, so neither changes the bits.
#include "eqprop/engine/trainer.hpp"

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <numeric>
#include <sstream>

#include "eqprop/error.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/io/augment.hpp"
#include "eqprop/engine/parallel.hpp"

namespace eqprop {
namespace {

// Runs body(chunk_index, first_row, rows) as oneTBB tasks for the chunks of `share` (one
// process's run of them) among the fixed chunks of `chunk` rows of [0, n).
template <typename Body>
void for_each_chunk_of(const Share& share, int n, int chunk, Body&& body) {
  parallel_for_index(static_cast<std::size_t>(share.count), [&](std::size_t i) {
    const int c = share.first + static_cast<int>(i), first = c * chunk;
    body(c, first, std::min(chunk, n - first));
  });
}

StateStats sum_in_order(const std::vector<StateStats>& parts) {
  StateStats s;
  for (const auto& p : parts) s += p;
  return s;
}

std::string shape(const std::vector<int>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? "-" : "") + std::to_string(sizes[i]);
  return s;
}

std::unique_ptr<Distribution> or_one_process(std::unique_ptr<Distribution> d) {
  return d ? std::move(d) : std::make_unique<Distribution>();
}

}  // namespace

void check_resume_architecture(const TrainState& state, const Config& cfg) {
  if (state.net.sizes != cfg.layer_sizes()) {
    throw ConfigError("--resume: the checkpoint holds a " + shape(state.net.sizes) +
                      " network, the configuration asks for " + shape(cfg.layer_sizes()) + " (config key 'hidden' or 'layers')");
  }
}

Trainer::Trainer(const Config& cfg, const Dataset& train, const Dataset& valid, std::unique_ptr<Distribution> dist)
    : train_(train), valid_(valid), dist_(or_one_process(std::move(dist))) {
  st_.cfg = cfg;
  st_.rng = Rng(cfg.seed);
  // Dense nets: the paper's Glorot weights and zero biases; conv nets: PyTorch's defaults.
  st_.net = cfg.convolutional() ? layered_network<float>(cfg.layers, cfg.facts, st_.rng)
                                : glorot_network<float>(cfg.layer_sizes(), st_.rng);
  st_.order.resize(train_.count);
  std::iota(st_.order.begin(), st_.order.end(), 0);
  dist_->place_particles(st_, train_.count, valid_.count, false);
  allocate_buffers();
}

Trainer::Trainer(TrainState state, const Dataset& train, const Dataset& valid, std::unique_ptr<Distribution> dist)
    : st_(std::move(state)), train_(train), valid_(valid), dist_(or_one_process(std::move(dist))) {
  check_resume_architecture(st_, st_.cfg);
  set_architecture(st_.net, st_.cfg.entries(), st_.cfg.facts);
  set_architecture(st_.epoch_start, st_.cfg.entries(), st_.cfg.facts);
  dist_->check_resumed(st_, train_, valid_);
  if (st_.order.size() != std::size_t(train_.count)) {
    if (st_.in_epoch) {
      throw ConfigError("--resume: the checkpoint stopped inside an epoch over " + std::to_string(st_.order.size()) +
                        " training examples, the run uses " + std::to_string(train_.count) +
                        " (config key 'train-samples')");
    }
    st_.order.resize(train_.count);
    std::iota(st_.order.begin(), st_.order.end(), 0);
  }
  // A checkpoint's particles are dropped when the run no longer starts free phases from them.
  dist_->place_particles(st_, train_.count, valid_.count, st_.has_particles && st_.cfg.persistent_particles);
  st_.has_particles = true;
  allocate_buffers();
}

void Trainer::match_velocity() {
  // Momentum may be switched on at a resume: its velocity then starts at zero, as a fresh run's.
  if (st_.cfg.momentum == 0.f) {
    st_.velocity = Network{};
  } else if (st_.velocity.sizes.empty()) {
    st_.velocity = st_.net;
    for (auto& w : st_.velocity.W) std::fill(w.begin(), w.end(), 0.f);
    for (auto& b : st_.velocity.b) std::fill(b.begin(), b.end(), 0.f);
  }
}

void Trainer::allocate_buffers() {
  st_.net.softmax_readout = st_.cfg.readout == Readout::CrossEntropy;
  match_velocity();
  const auto sizes = st_.cfg.layer_sizes();
  const int cap = std::max(train_chunk(), st_.cfg.eval_chunk);
  workspaces_ = tbb::enumerable_thread_specific<Workspace>([sizes, cap] { return Workspace(sizes, cap); });
  mb_ = Minibatch(st_.cfg);
  coding_ = InputCoding(st_.cfg.facts);
  // W_1's blocks of equal work: with its rows cut evenly, the rows of MNIST's lower half
  // (53 % of the nonzero pixels) made the second of two threads the last in the drive and
  // the update of every minibatch.
  constexpr int kWeightSamples = 2000;
  blocks_ = update_blocks(sizes, st_.net.specs, st_.net.shapes,
                          st_.net.conv(1) ? std::vector<double>{} : input_unit_weights(train_, coding_, kWeightSamples));
  layer_blocks_.assign(sizes.size(), 0);
  for (const UpdateBlock& b : blocks_) ++layer_blocks_[b.k];
  blocks_left_ = std::make_unique<std::atomic<int>[]>(sizes.size());
  layers_.emplace(st_.net);
  layers_fresh_ = false;
}

void Trainer::begin_epoch() {
  if (st_.cfg.shuffle) {
    st_.rng.shuffle(st_.order);
    dist_->reorder(st_);
  }
  st_.epoch_start = st_.net;
  st_.current = EpochStats{};
  st_.current.epoch = st_.epochs_done + 1;
  st_.current.rel_change.assign(st_.net.layers(), 0.0);
  st_.cursor = 0;
  st_.in_epoch = true;
}

StateStats Trainer::train_minibatch(const std::int32_t* idx, float beta_signed) {
  const auto t_start = std::chrono::steady_clock::now();
  const int B = st_.cfg.batch, chunk = train_chunk();
  for (int i = 0; i < B; ++i) mb_.y[i] = train_.y[idx[i]];
  refresh_layers();  // normally the last minibatch's update left them fresh (below)
  mb_.input.reset(B, st_.net.sizes[0]);
  const Share mine = dist_->train_chunks(static_cast<int>(mb_.chunk_stats.size()));
  const Share own = rows_of(mine, chunk, B);
  // The rows other processes relax: their inputs enter this process's update all the same.
  for (int i = 0; i < B; ++i)
    if (i < own.first || i >= own.first + own.count) set_training_input(idx[i], i);
  const bool persistent = st_.cfg.persistent_particles;
  // With several threads and a dense layer 1, x W_1 + b_1 of the whole share first, each
  // thread over its own rows of W_1 (drive_pipeline.hpp), then the chunks.
  configure_pipeline();
  const bool pipelined = pipeline_.active();
  const auto t_fork = std::chrono::steady_clock::now();
  // One chunk, its inputs and x W_1 + b_1 already in mb_ when pipelined.
  auto relax = [&](int c, int first, int rows, Workspace& ws) {
    if (!pipelined) {
      // The chunk's inputs (with max-shift, moved copies) into its own rows of the minibatch.
      for (int i = first; i < first + rows; ++i) set_training_input(idx[i], i);
      chunk_drive(st_.net, *layers_, first, rows, mb_, ws);
    }
    if (persistent) {
      for (int i = 0; i < rows; ++i) copy_rows(st_.train_particles, dist_->particle_row(idx[first + i]), ws.cur, i, 1);
    } else {
      ws.cur.zero();
    }
    relax_chunk(st_.net, *layers_, st_.cfg, beta_signed, c, first, rows, mb_, ws);
    // The free phase's end state is the new particle (reference code: only the free phase is stored).
    if (persistent)
      for (int i = 0; i < rows; ++i) copy_rows(mb_.free, first + i, st_.train_particles, dist_->particle_row(idx[first + i]), 1);
  };
  if (!pipelined) {
    for_each_chunk_of(mine, B, chunk,
                      [&](int c, int first, int rows) { timed_task([&](Workspace& ws) { relax(c, first, rows, ws); }); });
  } else {
    // One task per thread (claims.hpp): its slice of the share's inputs, then the drive, then
    // its chunks. The same thread sets the same rows of mb_ each minibatch.
    std::atomic<int> slices_set{0};
    fill_claims_.begin();
    chunk_claims_.begin();
    pipeline_.begin(mb_.input, st_.net, mb_.drive1.data(), part_ends_);
    const int G = pipeline_.groups();
    parallel_for_index(static_cast<std::size_t>(G), [&](std::size_t) {
      timed_task([&](Workspace& ws) {
        const int me = tbb::this_task_arena::current_thread_index();
        fill_claims_.run(me, [&](int k) {
          for (int i = own.count * k / G; i < own.count * (k + 1) / G; ++i) set_training_input(idx[own.first + i], own.first + i);
          slices_set.fetch_add(1, std::memory_order_release);
        });
        for (int spins = 0; slices_set.load(std::memory_order_acquire) < G;) pause_or_yield(spins);
        pipeline_.run(me);
        chunk_claims_.run(me, [&](int k) {
          const int c = mine.first + k, first = c * chunk;
          pipeline_.wait_part(chunk_claims_.owner(k));  // its rows of drive1 whole
          relax(c, first, std::min(chunk, B - first), ws);
        });
      });
    });
  }
  const auto t_join = std::chrono::steady_clock::now();
  // Before the reducer's tasks add to the threads' busy time.
  account_region(relax_times_, std::chrono::duration<double>(t_join - t_fork).count());
  dist_->exchange(mb_, st_.cfg, chunk);
  const auto t_relaxed = std::chrono::steady_clock::now();
  // Reducer: one synchronized update after every chunk has finished relaxing; its blocks touch
  // disjoint parameters, one task each (a block of W_1 lists its own rows' inputs by unit).
  input_nonzeros_ += mb_.input.nonzeros();
  input_samples_ += B;
  const bool symmetric = st_.cfg.nudging == Nudging::Symmetric;
  const float beta_diff = symmetric ? 2.f * beta_signed : beta_signed;
  const std::vector<float>& alphas = epoch_alphas();
  // The task that finishes a layer's last block refreshes that layer's copies of W_k (packed,
  // transposed) for the next minibatch, inside the region: done serially at the next minibatch's
  // start, it read W_k from whichever core had updated it and wrote copies both cores had read
  // (34 us of a two-thread net1 minibatch, against 5.5 us at one thread).
  layers_fresh_ = false;
  for (std::size_t k = 1; k < layer_blocks_.size(); ++k) blocks_left_[k].store(layer_blocks_[k], std::memory_order_relaxed);
  const auto t_reduce = std::chrono::steady_clock::now();
  auto update = [&](std::size_t i, Workspace& ws) {
    ep_update_block(st_.net, *layers_, blocks_[i], mb_.input, mb_.nudged, mb_.phase_b(st_.cfg.nudging), B, alphas, beta_diff,
                    mb_.diff1.data(), ws.update, st_.cfg.weight_decay, st_.cfg.momentum > 0.f ? &st_.velocity : nullptr,
                    st_.cfg.momentum);
    // acq_rel: the last task sees every other block's writes to W_k.
    const int k = blocks_[i].k;
    if (blocks_left_[k].fetch_sub(1, std::memory_order_acq_rel) == 1) layers_->refresh_layer(st_.net, k);
  };
  if (!pipelined) {
    parallel_for_index(blocks_.size(), [&](std::size_t i) { timed_task([&](Workspace& ws) { update(i, ws); }); });
  } else {
    // Each thread first updates the rows of W_1 its drive read (still in its cache), then the
    // other layers' blocks. Each block is the same arithmetic whoever runs it.
    update_claims_.begin();
    parallel_for_index(static_cast<std::size_t>(pipeline_.groups()), [&](std::size_t) {
      timed_task([&](Workspace& ws) {
        update_claims_.run(tbb::this_task_arena::current_thread_index(), [&](int i) { update(std::size_t(i), ws); });
      });
    });
  }
  layers_fresh_ = true;
  const auto t_end = std::chrono::steady_clock::now();
  account_region(update_times_, std::chrono::duration<double>(t_end - t_reduce).count());
  st_.current.relax_seconds += std::chrono::duration<double>(t_relaxed - t_start).count();
  st_.current.update_seconds += std::chrono::duration<double>(t_end - t_relaxed).count();
  StateStats total = sum_in_order(mb_.chunk_stats);
  // Energy and cost sample by sample in minibatch order (the chunks' sums group them by chunk):
  // with a fixed number of steps no figure depends on --chunk. The other figures are counts.
  total.energy = total.cost = 0;
  for (int i = 0; i < B; ++i) total.energy += mb_.row_sums[2 * i], total.cost += mb_.row_sums[2 * i + 1];
  // Outside the two parallel regions (before the fork, between the join and the reducer,
  // after it); the exchange between processes is waiting, not serial work, and is left out.
  using sec = std::chrono::duration<double>;
  serial_seconds_ += sec(t_fork - t_start).count() + sec(t_reduce - t_relaxed).count() +
                     sec(std::chrono::steady_clock::now() - t_end).count();
  return total;
}

void Trainer::configure_pipeline() {
  const int threads = std::min<int>(
      static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism)),
      tbb::this_task_arena::max_concurrency());
  const int wanted = st_.net.conv(1) ? 1 : threads;
  const int chunks = dist_->train_chunks(static_cast<int>(mb_.chunk_stats.size())).count;
  // Set up once per thread count (and share of chunks): nothing is allocated per minibatch.
  if (wanted == pipeline_threads_ && chunks == pipeline_chunks_) return;
  pipeline_threads_ = wanted;
  pipeline_chunks_ = chunks;
  pipeline_.configure(blocks_, st_.net.sizes[1], wanted);
  const int G = pipeline_.groups();
  if (G < 2) return;
  std::vector<int> slices(G), chunk_owner(chunks);
  for (int k = 0; k < G; ++k) slices[k] = k;
  for (int k = 0; k < chunks; ++k) chunk_owner[k] = k * G / chunks;
  // Thread t's chunks are consecutive (the owners grow with k): its part ends where they end.
  const int B = st_.cfg.batch, chunk = train_chunk();
  const Share mine = dist_->train_chunks(static_cast<int>(mb_.chunk_stats.size()));
  const Share own = rows_of(mine, chunk, B);
  part_ends_.assign(std::size_t(G) + 1, own.first);
  for (int k = 0; k < chunks; ++k)
    part_ends_[std::size_t(chunk_owner[k]) + 1] = std::min(B, (mine.first + k + 1) * chunk);
  for (int t = 1; t <= G; ++t) part_ends_[t] = std::max(part_ends_[t], part_ends_[t - 1]);  // a thread without chunks
  fill_claims_.assign(std::move(slices));
  chunk_claims_.assign(std::move(chunk_owner));
  update_claims_.assign(pipeline_.update_owners());
}

void Trainer::refresh_layers() {
  if (layers_fresh_) return;
  layers_->refresh(st_.net);
  layers_fresh_ = true;
}

void Trainer::account_region(RegionTimes& times, double wall) {
  double busiest = 0;
  for (Workspace& ws : workspaces_) {
    times.busy += ws.busy;
    busiest = std::max(busiest, ws.busy);
    ws.busy = 0;
  }
  times.wall += wall;
  times.busiest += busiest;
}

void Trainer::set_training_input(std::int32_t example, int slot) {
  const Config& c = st_.cfg;
  const Dataset& d = train_;
  if (c.max_shift == 0 && !c.flip) return set_input_row(mb_.input, slot, d, example, coding_);
  const Shift s = draw_shift(c.seed, st_.epochs_done, example, c.max_shift, c.flip);
  const std::size_t at = std::size_t(slot) * d.inputs();
  if (d.floats) {
    shift_image(d.float_row(example), d.channels, d.height, d.width, s, mb_.shifted_f.data() + at);
    mb_.input.set_row(slot, mb_.shifted_f.data() + at, coding_);
  } else {
    shift_image(d.row(example), d.channels, d.height, d.width, s, mb_.shifted.data() + at);
    mb_.input.set_row(slot, mb_.shifted.data() + at, coding_);
  }
}

const std::vector<float>& Trainer::epoch_alphas() {
  // Recomputed from the configuration and the epoch each time, so a resumed run gets the
  // same rates; the power is taken in double and rounded once.
  const double scale = st_.cfg.rate_scale(st_.epochs_done);
  alphas_now_.resize(st_.cfg.alphas.size());
  for (std::size_t k = 0; k < alphas_now_.size(); ++k) alphas_now_[k] = static_cast<float>(st_.cfg.alphas[k] * scale);
  return alphas_now_;
}

bool Trainer::train_pass(const std::function<Next(const Trainer&)>& after_minibatch) {
  using clock = std::chrono::steady_clock;
  if (!st_.in_epoch) begin_epoch();
  const int B = st_.cfg.batch;
  const int total = samples_per_epoch();
  auto t0 = clock::now();
  bool stop = false;
  // As the reference code, a last partial minibatch is dropped.
  while (!stop && st_.cursor + B <= total) {
    // The reference code multiplies the stored beta by a fresh random sign each minibatch;
    // a running product of i.i.d. signs is itself i.i.d. uniform, so drawing the sign is the same.
    const float beta =
        st_.cfg.beta_sign == BetaSign::Random ? st_.cfg.beta * static_cast<float>(st_.rng.sign()) : st_.cfg.beta;
    const StateStats s = train_minibatch(st_.order.data() + st_.cursor, beta);
    if (!std::isfinite(s.energy) || !std::isfinite(s.cost)) check_finite("free phase", true);
    st_.current.train += s;
    if (!last_) last_.emplace();
    last_->position = st_.cursor, last_->beta = beta;
    last_->free = s;  // copy-assigned: the vectors reuse their storage, no allocation per minibatch
    st_.cursor += B;
    if (after_minibatch) {
      const auto t1 = clock::now();
      st_.current.train_seconds += std::chrono::duration<double>(t1 - t0).count();
      t0 = t1;
      stop = after_minibatch(*this) == Next::Stop;
      t0 = clock::now();  // the caller's time (a checkpoint, say) is not training time
    }
  }
  st_.current.train_seconds += std::chrono::duration<double>(clock::now() - t0).count();
  return st_.cursor + B > total;
}

const EpochStats& Trainer::finish_epoch() {
  using clock = std::chrono::steady_clock;
  check_finite("after the epoch's updates", false);
  EpochStats& e = st_.current;
  const auto t0 = clock::now();
  e.valid = evaluate(valid_, st_.cfg.n_free, st_.cfg.persistent_particles ? &st_.valid_particles : nullptr);
  e.valid_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  e.seconds = e.train_seconds + e.valid_seconds;
  e.threads = static_cast<int>(tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  const int L = st_.net.layers();
  e.rel_change.assign(L, 0.0);
  for (int k = 1; k <= L; ++k) {
    double d = 0;
    const Network& a = st_.net;
    const Network& b = st_.epoch_start;
    for (std::size_t i = 0; i < a.W[k].size(); ++i) d += std::pow(double(a.W[k][i]) - b.W[k][i], 2);
    for (std::size_t i = 0; i < a.b[k].size(); ++i) d += std::pow(double(a.b[k][i]) - b.b[k][i], 2);
    const double n = layer_norm(b, k);
    e.rel_change[k - 1] = n > 0 ? std::sqrt(d) / n : 0.0;
  }
  st_.curves.push_back(e);
  ++st_.epochs_done;
  st_.in_epoch = false;
  st_.cursor = 0;
  st_.epoch_start = Network{};  // only needed inside an epoch; keeps checkpoints small
  return st_.curves.back();
}

EpochStats Trainer::train_epoch() {
  train_pass();
  return finish_epoch();
}

StateStats Trainer::evaluate(const Dataset& data, int steps, Particles* particles, std::vector<float>* scores) {
  const int chunk = st_.cfg.eval_chunk;
  const int classes = st_.net.sizes.back();
  refresh_layers();
  if (scores) scores->assign(std::size_t(data.count) * classes, 0.f);
  std::vector<StateStats> parts((data.count + chunk - 1) / chunk);
  const Share mine = dist_->eval_chunks(static_cast<int>(parts.size()));
  const int base = mine.first * chunk;  // the first example of this process: particle row 0
  for_each_chunk_of(mine, data.count, chunk, [&](int c, int first, int rows) {
    Workspace& ws = workspaces_.local();
    if (particles) {
      copy_rows(*particles, first - base, ws.cur, 0, rows);
    } else {
      ws.cur.zero();
    }
    parts[c] = evaluate_chunk(st_.net, *layers_, coding_, st_.cfg, steps, data, first, rows, ws,
                              scores ? scores->data() + std::size_t(first) * classes : nullptr);
    if (particles) copy_rows(ws.cur, 0, *particles, first - base, rows);
  });
  dist_->gather_stats(parts);
  const StateStats s = sum_in_order(parts);
  if (!std::isfinite(s.energy)) check_finite("evaluation", true);
  return s;
}

std::optional<StateStats> Trainer::evaluate_in_slices(const Dataset& data, int steps, int slice_chunks,
                                                      const std::function<bool()>& go_on) {
  const int chunk = st_.cfg.eval_chunk;
  const int chunks = (data.count + chunk - 1) / chunk;
  slice_chunks = std::max(1, slice_chunks);
  refresh_layers();
  std::vector<StateStats> all;
  all.reserve(static_cast<std::size_t>(chunks));
  for (int s0 = 0; s0 < chunks; s0 += slice_chunks) {
    if (s0 > 0 && !go_on()) return std::nullopt;
    // The slice's chunks are shared among the processes as a whole evaluation's are.
    std::vector<StateStats> parts(static_cast<std::size_t>(std::min(slice_chunks, chunks - s0)));
    const int offset = s0 * chunk;
    for_each_chunk_of(dist_->eval_chunks(static_cast<int>(parts.size())), data.count - offset, chunk,
                      [&](int c, int first, int rows) {
                        Workspace& ws = workspaces_.local();
                        ws.cur.zero();
                        parts[c] = evaluate_chunk(st_.net, *layers_, coding_, st_.cfg, steps, data, offset + first,
                                                  rows, ws, nullptr);
                      });
    dist_->gather_stats(parts);
    all.insert(all.end(), parts.begin(), parts.end());
  }
  const StateStats s = sum_in_order(all);
  if (!std::isfinite(s.energy)) check_finite("evaluation", true);
  return s;
}

StateStats Trainer::relax_states(const Dataset& data, int steps, float beta, int nudged_steps, Particles& out,
                                 std::vector<float>* scores) {
  const int chunk = st_.cfg.eval_chunk;
  const int classes = st_.net.sizes.back();
  refresh_layers();
  out = Particles(st_.cfg.layer_sizes(), data.count);
  if (scores) scores->assign(std::size_t(data.count) * classes, 0.f);
  std::vector<StateStats> parts((data.count + chunk - 1) / chunk);
  for_each_chunk_of(Share{0, static_cast<int>(parts.size())}, data.count, chunk, [&](int c, int first, int rows) {
    Workspace& ws = workspaces_.local();
    ws.cur.zero();
    parts[c] = evaluate_chunk(st_.net, *layers_, coding_, st_.cfg, steps, data, first, rows, ws,
                              scores ? scores->data() + std::size_t(first) * classes : nullptr);
    if (beta != 0.f) relax_phase(st_.net, *layers_, st_.cfg, ws.drive1.data(), ws, rows, nudged_steps, beta, data.y.data() + first);
    copy_rows(ws.cur, 0, out, first, rows);
  });
  const StateStats s = sum_in_order(parts);
  if (!std::isfinite(s.energy)) check_finite("relaxation", true);
  return s;
}

void Trainer::check_finite(const char* where, bool state_nonfinite) const {
  const int bad = first_nonfinite_layer(st_.net);
  if (bad == 0 && !state_nonfinite) return;
  std::ostringstream os;
  os << "training diverged in epoch " << st_.epochs_done + 1 << " (" << where << "): ";
  if (bad > 0) {
    os << "layer " << bad << " weights or bias hold NaN or infinity";
  } else {
    // Parameters are finite but the energy overflowed: name the layer with the largest weight.
    int worst = 1;
    double largest = 0;
    for (int k = 1; k <= st_.net.layers(); ++k)
      for (float v : st_.net.W[k])
        if (std::abs(v) > largest) largest = std::abs(v), worst = k;
    os << "the energy is not finite; layer " << worst << " has the largest weight, |w| = " << largest;
  }
  os << "; try smaller learning rates (alphas)";
  throw DivergenceError(os.str());
}

}  // namespace eqprop
