#include "eqprop/trainer.hpp"


#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>

#include "eqprop/augment.hpp"
#include "eqprop/blas.hpp"
#include "eqprop/error.hpp"
#include "eqprop/parallel.hpp"
#include "eqprop/update.hpp"
#include <tbb/global_control.h>

namespace eqprop {
namespace {

int max_width(const std::vector<int>& sizes) { return *std::max_element(sizes.begin() + 1, sizes.end()); }

void copy_rows(const LayerStates<float>& from, int from_row, LayerStates<float>& to, int to_row, int rows) {
  for (std::size_t k = 1; k < from.h.size(); ++k) {
    const int n = from.size(static_cast<int>(k));
    std::memcpy(to.row(static_cast<int>(k), to_row), from.row(static_cast<int>(k), from_row),
                std::size_t(rows) * n * sizeof(float));
  }
}

// Runs body(chunk_index, first_row, rows) as oneTBB tasks for the chunks of `share` (one
// rank's run of them) among the fixed chunks of `chunk` rows of [0, n). The chunks depend
// only on n and chunk, never on the thread or rank count.
template <typename Body>
void for_each_chunk_of(const Share& share, int n, int chunk, Body&& body) {
  parallel_for_index(static_cast<std::size_t>(share.count), [&](std::size_t i) {
    const int c = share.first + static_cast<int>(i), first = c * chunk;
    body(c, first, std::min(chunk, n - first));
  });
}

// The rows [first, first + count) of `share`'s chunks of `chunk` rows among n rows.
Share rows_of(const Share& share, int chunk, int n) {
  const int first = std::min(n, share.first * chunk);
  return Share{first, std::min(n, (share.first + share.count) * chunk) - first};
}

StateStats sum_in_order(const std::vector<StateStats>& parts) {
  StateStats s;
  for (const auto& p : parts) s += p;
  return s;
}

}  // namespace

Workspace::Workspace(const std::vector<int>& sizes, int cap)
    : cur(sizes, cap), nxt(sizes, cap), drive1(std::size_t(cap) * sizes[1]),
      scratch(std::size_t(cap) * max_width(sizes)) {}

namespace {
std::string shape(const std::vector<int>& sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? "-" : "") + std::to_string(sizes[i]);
  return s;
}
}  // namespace

Trainer::Trainer(const Config& cfg, const Dataset& train, const Dataset& valid, const Cluster& cluster)
    : train_(train), valid_(valid), cluster_(cluster) {
  st_.cfg = cfg;
  st_.rng = Rng(cfg.seed);
  const auto sizes = cfg.layer_sizes();
  st_.net = glorot_network<float>(sizes, st_.rng);
  st_.order.resize(train_.count);
  std::iota(st_.order.begin(), st_.order.end(), 0);
  shard_particles(false);
  allocate_buffers();
}

void check_resume_architecture(const TrainState& state, const Config& cfg) {
  if (state.net.sizes != cfg.layer_sizes()) {
    throw ConfigError("--resume: the checkpoint holds a " + shape(state.net.sizes) +
                      " network, the configuration asks for " + shape(cfg.layer_sizes()) + " (config key 'hidden')");
  }
}

Trainer::Trainer(TrainState state, const Dataset& train, const Dataset& valid, const Cluster& cluster)
    : st_(std::move(state)), train_(train), valid_(valid), cluster_(cluster) {
  check_resume_architecture(st_, st_.cfg);
  // Across ranks only rank 0 read the checkpoint and holds particles: it alone can check
  // them, and every rank hears the outcome before any waits for the particles.
  const bool holds = cluster_.root() && st_.has_particles;
  cluster_.agree([&] {
    if (!holds) return;
    auto check_count = [](const Particles& p, const Dataset& d, const char* key) {
      if (p.capacity != d.count) {
        throw ConfigError(std::string("--resume: the checkpoint has particles for ") + std::to_string(p.capacity) +
                          " " + d.name + " examples, the run uses " + std::to_string(d.count) + " (config key '" +
                          key + "')");
      }
    };
    check_count(st_.train_particles, train_, "train-samples");
    check_count(st_.valid_particles, valid_, "valid-samples");
  });
  if (st_.order.size() != std::size_t(train_.count)) {
    if (st_.in_epoch) {
      throw ConfigError("--resume: the checkpoint stopped inside an epoch over " + std::to_string(st_.order.size()) +
                        " training examples, the run uses " + std::to_string(train_.count) +
                        " (config key 'train-samples')");
    }
    st_.order.resize(train_.count);
    std::iota(st_.order.begin(), st_.order.end(), 0);
  }
  // A model-only checkpoint: particles restart from zero, as the reference code's reload.
  shard_particles(cluster_.max(holds ? 1 : 0) != 0);
  st_.has_particles = true;
  allocate_buffers();
}

void Trainer::shard_particles(bool restore) {
  const auto sizes = st_.cfg.layer_sizes();
  const int R = cluster_.size(), me = cluster_.rank();
  train_map_ = ShardMap::by_slot(st_.order, st_.cfg.batch, train_chunk(), R);
  valid_map_ = ShardMap::by_chunk(valid_.count, st_.cfg.eval_chunk, R);
  if (!restore) {
    st_.train_particles = Particles(sizes, train_map_.counts[me]);
    st_.valid_particles = Particles(sizes, valid_map_.counts[me]);
  } else if (R > 1) {
    // Rank 0's full particles go to their ranks; the full copy is then released.
    Particles t = scatter_particles(cluster_, train_map_, sizes, st_.train_particles);
    Particles v = scatter_particles(cluster_, valid_map_, sizes, st_.valid_particles);
    st_.train_particles = std::move(t);
    st_.valid_particles = std::move(v);
  }
}

void Trainer::allocate_buffers() {
  blas_single_threaded();
  const auto sizes = st_.cfg.layer_sizes();
  const int B = st_.cfg.batch;
  const int R = cluster_.size();
  chunks_ = share_of((B + train_chunk() - 1) / train_chunk(), R, cluster_.rank());
  const int cap = std::max(train_chunk(), st_.cfg.eval_chunk);
  workspaces_ = tbb::enumerable_thread_specific<Workspace>([sizes, cap] { return Workspace(sizes, cap); });
  mb_y_.assign(B, 0);
  mb_shifted_.assign(st_.cfg.max_shift > 0 ? std::size_t(B) * kInputs : 0, 0.f);
  mb_free_ = LayerStates<float>(sizes, B);
  mb_nudged_ = LayerStates<float>(sizes, B);
  if (st_.cfg.nudging == Nudging::Symmetric) mb_nudged2_ = LayerStates<float>(sizes, B);
  chunk_stats_.assign((B + train_chunk() - 1) / train_chunk(), StateStats{});
  diff_.assign(std::size_t(B) * sizes[1], 0.f);
  mb_drive1_.assign(std::size_t(B) * sizes[1], 0.f);
  blocks_ = update_blocks(sizes);
  // The exchange: for each rank, its rows of every state buffer the update reads (all
  // layers), then its chunks' figures, back to back.
  xchg_counts_.assign(R, 0);
  xchg_offsets_.assign(R, 0);
  const int buffers = st_.cfg.nudging == Nudging::Symmetric ? 3 : 2;
  int width = 0;
  for (std::size_t k = 1; k < sizes.size(); ++k) width += sizes[k];
  long total = 0;
  for (int r = 0; r < R; ++r) {
    const Share s = share_of(static_cast<int>(chunk_stats_.size()), R, r);
    const long rows = rows_of(s, train_chunk(), B).count;
    const long bytes = rows * width * buffers * long(sizeof(float)) + long(s.count) * long(sizeof(StateStats));
    xchg_counts_[r] = static_cast<int>(bytes);
    xchg_offsets_[r] = static_cast<int>(total);
    total += bytes;
  }
  exchange_bytes_ = R > 1 ? total : 0;
  xchg_send_.assign(R > 1 ? std::size_t(xchg_counts_[cluster_.rank()]) : 0, 0);
  xchg_recv_.assign(R > 1 ? std::size_t(total) : 0, 0);
}

void Trainer::exchange_minibatch(int B, int chunk) {
  const int R = cluster_.size();
  if (R == 1) return;
  std::vector<LayerStates<float>*> bufs{&mb_free_, &mb_nudged_};
  if (st_.cfg.nudging == Nudging::Symmetric) bufs.push_back(&mb_nudged2_);
  const int L = st_.net.layers();
  const int C = static_cast<int>(chunk_stats_.size());
  // Rank r's rows and chunks; packing and unpacking walk the same order.
  auto walk = [&](int r, char* p, bool pack) {
    const Share s = share_of(C, R, r), rows = rows_of(s, chunk, B);
    for (auto* b : bufs) {
      for (int k = 1; k <= L; ++k) {
        const std::size_t n = std::size_t(rows.count) * b->size(k) * sizeof(float);
        if (pack) std::memcpy(p, b->row(k, rows.first), n); else std::memcpy(b->row(k, rows.first), p, n);
        p += n;
      }
    }
    const std::size_t n = std::size_t(s.count) * sizeof(StateStats);
    if (pack) std::memcpy(p, chunk_stats_.data() + s.first, n); else std::memcpy(chunk_stats_.data() + s.first, p, n);
  };
  walk(cluster_.rank(), xchg_send_.data(), true);
  cluster_.allgather(xchg_send_.data(), static_cast<int>(xchg_send_.size()), xchg_recv_.data(), xchg_counts_,
                     xchg_offsets_, 1);
  for (int r = 0; r < R; ++r) {
    if (r == cluster_.rank()) continue;
    walk(r, xchg_recv_.data() + xchg_offsets_[r], false);
    // The other ranks' part of h^a_1 - h^b_1, from the rows just received.
    const Share rows = rows_of(share_of(C, R, r), chunk, B);
    if (rows.count > 0)
      layer1_difference(mb_nudged_, st_.cfg.nudging == Nudging::Symmetric ? mb_nudged2_ : mb_free_, rows.first,
                        rows.count, diff_.data());
  }
}

void Trainer::begin_epoch() {
  if (st_.cfg.shuffle) {
    st_.rng.shuffle(st_.order);
    // (Without persistent particles the shards hold zeros that nobody reads: they stay put.)
    if (cluster_.size() > 1 && st_.cfg.persistent_particles) {
      // Every rank drew the same order: each particle goes to the rank that now relaxes it.
      ShardMap next = ShardMap::by_slot(st_.order, st_.cfg.batch, train_chunk(), cluster_.size());
      st_.train_particles =
          move_particles(cluster_, train_map_, next, st_.cfg.layer_sizes(), st_.train_particles);
      train_map_ = std::move(next);
    }
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
  const int B = st_.cfg.batch;
  const bool symmetric = st_.cfg.nudging == Nudging::Symmetric;
  const int n1 = st_.net.sizes[1];
  for (int i = 0; i < B; ++i) mb_y_[i] = train_.y[idx[i]];
  top_.refresh(st_.net);
  mb_input_.reset(B, kInputs);
  const int chunk = train_chunk();
  const Share own = rows_of(chunks_, chunk, B);
  // The rows other ranks relax: their inputs enter this rank's update all the same.
  for (int i = 0; i < B; ++i)
    if (i < own.first || i >= own.first + own.count) mb_input_.set_row(i, training_input(idx[i], i));
  for_each_chunk_of(chunks_, B, chunk, [&](int c, int first, int rows) {
    Workspace& ws = workspaces_.local();
    // The chunk's inputs (with max-shift, moved copies) into its own rows of mb_input_.
    for (int i = first; i < first + rows; ++i) mb_input_.set_row(i, training_input(idx[i], i));
    const float* drive1 = mb_drive1_.data() + std::size_t(first) * n1;  // [rows x n_1]
    const std::uint8_t* y = mb_y_.data() + first;
    // x W_1 + b_1 over the chunk's nonzero inputs: the clamped part of layer 1's drive.
    sparse_clamped_drive(st_.net, mb_input_, first, rows, mb_drive1_.data());
    const bool persistent = st_.cfg.persistent_particles;
    const std::vector<int>& local = train_map_.local;  // this rank's particle row of each example
    if (persistent) {
      for (int i = 0; i < rows; ++i) copy_rows(st_.train_particles, local[idx[first + i]], ws.cur, i, 1);
    } else {
      ws.cur.zero();
    }
    // Free phase; its end state is the new particle (reference code: only the free phase is stored).
    relax(st_.net, drive1, ws.cur, ws.nxt, rows, st_.cfg.n_free, st_.cfg.eps, 0.f, nullptr, &top_);
    if (persistent)
      for (int i = 0; i < rows; ++i) copy_rows(ws.cur, i, st_.train_particles, local[idx[first + i]], 1);
    copy_rows(ws.cur, 0, mb_free_, first, rows);
    chunk_stats_[c] = state_stats(st_.net, mb_input_, first, drive1, ws.cur, rows, y, ws.scratch.data(), &top_);
    // Nudged phase(s), each from the free fixed point.
    relax(st_.net, drive1, ws.cur, ws.nxt, rows, st_.cfg.n_nudged, st_.cfg.eps, beta_signed, y, &top_);
    copy_rows(ws.cur, 0, mb_nudged_, first, rows);
    if (symmetric) {
      copy_rows(mb_free_, first, ws.cur, 0, rows);
      relax(st_.net, drive1, ws.cur, ws.nxt, rows, st_.cfg.n_nudged, st_.cfg.eps, -beta_signed, y, &top_);
      copy_rows(ws.cur, 0, mb_nudged2_, first, rows);
    }
    layer1_difference(mb_nudged_, symmetric ? mb_nudged2_ : mb_free_, first, rows, diff_.data());
  });
  exchange_minibatch(B, chunk);
  const auto t_relaxed = std::chrono::steady_clock::now();
  // Reducer: one synchronized update after every chunk has finished relaxing.
  mb_input_.index_by_unit();
  input_nonzeros_ += mb_input_.nonzeros();
  input_samples_ += B;
  if (symmetric) {
    ep_update(st_.net, blocks_, mb_input_, mb_nudged_, mb_nudged2_, B, epoch_alphas(), 2.f * beta_signed,
              diff_.data(), st_.cfg.weight_decay);
  } else {
    ep_update(st_.net, blocks_, mb_input_, mb_nudged_, mb_free_, B, epoch_alphas(), beta_signed, diff_.data(),
              st_.cfg.weight_decay);
  }
  const auto t_end = std::chrono::steady_clock::now();
  st_.current.relax_seconds += std::chrono::duration<double>(t_relaxed - t_start).count();
  st_.current.update_seconds += std::chrono::duration<double>(t_end - t_relaxed).count();
  return sum_in_order(chunk_stats_);
}

const float* Trainer::training_input(std::int32_t example, int slot) {
  if (st_.cfg.max_shift == 0) return train_.row(example);
  float* out = mb_shifted_.data() + std::size_t(slot) * kInputs;
  shift_image(train_.row(example), draw_shift(st_.cfg.seed, st_.epochs_done, example, st_.cfg.max_shift), out);
  return out;
}

const std::vector<float>& Trainer::epoch_alphas() {
  // Recomputed from the configuration and the epoch each time, so a resumed run gets the
  // same rates; the power is taken in double and rounded once.
  const double scale = std::pow(double(st_.cfg.lr_decay), double(st_.epochs_done));
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

StateStats Trainer::evaluate(const Dataset& data, int steps, Particles* particles) {
  const int chunk = st_.cfg.eval_chunk;
  top_.refresh(st_.net);
  const int C = (data.count + chunk - 1) / chunk;
  std::vector<StateStats> parts(C);
  const Share mine = share_of(C, cluster_.size(), cluster_.rank());
  const int base = mine.first * chunk;  // the first example of this rank: particle row 0
  for_each_chunk_of(mine, data.count, chunk, [&](int c, int first, int rows) {
    Workspace& ws = workspaces_.local();
    const float* x = data.row(first);  // a split's rows are contiguous: no gather needed
    if (particles) {
      copy_rows(*particles, first - base, ws.cur, 0, rows);
    } else {
      ws.cur.zero();
    }
    ws.input.assign(x, rows, kInputs);
    sparse_clamped_drive(st_.net, ws.input, 0, rows, ws.drive1.data());
    relax(st_.net, ws.drive1.data(), ws.cur, ws.nxt, rows, steps, st_.cfg.eps, 0.f, nullptr, &top_);
    if (particles) copy_rows(ws.cur, 0, *particles, first - base, rows);
    parts[c] = state_stats(st_.net, ws.input, 0, ws.drive1.data(), ws.cur, rows, data.y.data() + first,
                           ws.scratch.data(), &top_);
  });
  if (cluster_.size() > 1) {
    std::vector<int> counts(cluster_.size()), offsets(cluster_.size());
    for (int r = 0; r < cluster_.size(); ++r) {
      const Share s = share_of(C, cluster_.size(), r);
      counts[r] = s.count;
      offsets[r] = s.first;
    }
    cluster_.allgather(parts.data() + mine.first, mine.count, parts.data(), counts, offsets, sizeof(StateStats));
  }
  const StateStats s = sum_in_order(parts);
  if (!std::isfinite(s.energy)) check_finite("evaluation", true);
  return s;
}

void Trainer::with_full_state(const std::function<void(const TrainState&)>& f) const {
  if (cluster_.size() == 1) {
    f(st_);
    return;
  }
  const auto sizes = st_.cfg.layer_sizes();
  Particles t = gather_particles(cluster_, train_map_, sizes, st_.train_particles);
  Particles v = gather_particles(cluster_, valid_map_, sizes, st_.valid_particles);
  if (!cluster_.root()) return;
  TrainState full = st_;
  full.train_particles = std::move(t);
  full.valid_particles = std::move(v);
  f(full);
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
