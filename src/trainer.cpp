#include "eqprop/trainer.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>

#include "eqprop/blas.hpp"
#include "eqprop/error.hpp"
#include "eqprop/update.hpp"

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

// Runs body(chunk_index, first_row, rows) for fixed chunks of `chunk` rows of [0, n) as
// oneTBB tasks. The chunks depend only on n and chunk, never on the thread count.
template <typename Body>
void for_each_chunk(int n, int chunk, Body&& body) {
  const int chunks = (n + chunk - 1) / chunk;
  tbb::parallel_for(
      tbb::blocked_range<int>(0, chunks, 1),
      [&](const tbb::blocked_range<int>& r) {
        for (int c = r.begin(); c != r.end(); ++c) {
          const int first = c * chunk;
          body(c, first, std::min(chunk, n - first));
        }
      },
      tbb::simple_partitioner());
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

Trainer::Trainer(const Config& cfg, const Dataset& train, const Dataset& valid)
    : cfg_(cfg),
      train_(train),
      valid_(valid),
      rng_(cfg.seed),
      alphas_(cfg.alphas),
      workspaces_([sizes = cfg.layer_sizes(), cap = std::max(std::min(cfg.chunk, cfg.batch), cfg.eval_chunk)] {
        return Workspace(sizes, cap);
      }) {
  blas_single_threaded();
  const auto sizes = cfg_.layer_sizes();
  net_ = glorot_network<float>(sizes, rng_);
  train_particles_ = Particles(sizes, train_.count);
  valid_particles_ = Particles(sizes, valid_.count);
  order_.resize(train_.count);
  std::iota(order_.begin(), order_.end(), 0);
  const int B = cfg_.batch;
  mb_x_.resize(std::size_t(B) * kInputs);
  mb_y_.resize(B);
  mb_free_ = LayerStates<float>(sizes, B);
  mb_nudged_ = LayerStates<float>(sizes, B);
  if (cfg_.nudging == Nudging::Symmetric) mb_nudged2_ = LayerStates<float>(sizes, B);
  chunk_stats_.resize((B + train_chunk() - 1) / train_chunk());
  diff_.resize(std::size_t(B) * sizes[1]);
  mb_drive1_.resize(std::size_t(B) * sizes[1]);
  drive_blocks_ = column_blocks(sizes[1]);
  blocks_ = update_blocks(sizes);
}

StateStats Trainer::train_minibatch(const std::int32_t* idx, float beta_signed) {
  const auto t_start = std::chrono::steady_clock::now();
  const int B = cfg_.batch;
  const bool symmetric = cfg_.nudging == Nudging::Symmetric;
  const int n1 = net_.sizes[1];
  // Gather the minibatch's inputs (B rows of 3 KB: too little to be worth a parallel region).
  for (int i = 0; i < B; ++i) {
    std::memcpy(mb_x_.data() + std::size_t(i) * kInputs, train_.row(idx[i]), kInputs * sizeof(float));
    mb_y_[i] = train_.y[idx[i]];
  }
  // x W_1 + b_1 for the whole minibatch, in fixed column blocks of W_1: W_1 (the largest
  // matrix) is read and packed by OpenBLAS once per minibatch instead of once per chunk.
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, drive_blocks_.size(), 1),
      [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t b = r.begin(); b != r.end(); ++b)
          clamped_drive(net_, mb_x_.data(), B, mb_drive1_.data(), drive_blocks_[b].first, drive_blocks_[b].second);
      },
      tbb::simple_partitioner());
  for_each_chunk(B, train_chunk(), [&](int c, int first, int rows) {
    Workspace& ws = workspaces_.local();
    const float* x = mb_x_.data() + std::size_t(first) * kInputs;   // [rows x 784]
    const float* drive1 = mb_drive1_.data() + std::size_t(first) * n1;  // [rows x n_1]
    const std::uint8_t* y = mb_y_.data() + first;
    for (int i = 0; i < rows; ++i) copy_rows(train_particles_, idx[first + i], ws.cur, i, 1);
    // Free phase; its end state is the new particle (reference code: only the free phase is stored).
    relax(net_, drive1, ws.cur, ws.nxt, rows, cfg_.n_free, cfg_.eps, 0.f, nullptr);
    for (int i = 0; i < rows; ++i) copy_rows(ws.cur, i, train_particles_, idx[first + i], 1);
    copy_rows(ws.cur, 0, mb_free_, first, rows);
    chunk_stats_[c] = state_stats(net_, x, drive1, ws.cur, rows, y, ws.scratch.data());
    // Nudged phase(s), each from the free fixed point.
    relax(net_, drive1, ws.cur, ws.nxt, rows, cfg_.n_nudged, cfg_.eps, beta_signed, y);
    copy_rows(ws.cur, 0, mb_nudged_, first, rows);
    if (symmetric) {
      copy_rows(mb_free_, first, ws.cur, 0, rows);
      relax(net_, drive1, ws.cur, ws.nxt, rows, cfg_.n_nudged, cfg_.eps, -beta_signed, y);
      copy_rows(ws.cur, 0, mb_nudged2_, first, rows);
    }
    layer1_difference(mb_nudged_, symmetric ? mb_nudged2_ : mb_free_, first, rows, diff_.data());
  });
  const auto t_relaxed = std::chrono::steady_clock::now();
  // Reducer: one synchronized update after every chunk has finished relaxing.
  if (symmetric) {
    ep_update(net_, blocks_, mb_x_.data(), mb_nudged_, mb_nudged2_, B, alphas_, 2.f * beta_signed, diff_.data());
  } else {
    ep_update(net_, blocks_, mb_x_.data(), mb_nudged_, mb_free_, B, alphas_, beta_signed, diff_.data());
  }
  const auto t_end = std::chrono::steady_clock::now();
  relax_seconds_ += std::chrono::duration<double>(t_relaxed - t_start).count();
  update_seconds_ += std::chrono::duration<double>(t_end - t_relaxed).count();
  return sum_in_order(chunk_stats_);
}

EpochStats Trainer::train_epoch() {
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  EpochStats es;
  es.epoch = ++epoch_;
  const int L = net_.layers();
  const Network start = net_;
  if (cfg_.shuffle) rng_.shuffle(order_);
  const int B = cfg_.batch;
  const int batches = train_.count / B;  // as the reference code, a last partial batch is dropped
  float beta = cfg_.beta;
  relax_seconds_ = update_seconds_ = 0;
  for (int m = 0; m < batches; ++m) {
    // The reference code multiplies the stored beta by a fresh random sign each minibatch;
    // a running product of i.i.d. signs is itself i.i.d. uniform, so drawing the sign is the same.
    if (cfg_.beta_sign == BetaSign::Random) beta = cfg_.beta * static_cast<float>(rng_.sign());
    const StateStats s = train_minibatch(order_.data() + std::size_t(m) * B, beta);
    if (!std::isfinite(s.energy) || !std::isfinite(s.cost)) check_finite("free phase", true);
    es.train += s;
  }
  check_finite("after the epoch's updates", false);
  es.train_seconds = std::chrono::duration<double>(clock::now() - t0).count();
  es.relax_seconds = relax_seconds_;
  es.update_seconds = update_seconds_;
  const auto t_valid = clock::now();
  es.valid = evaluate_valid();
  es.valid_seconds = std::chrono::duration<double>(clock::now() - t_valid).count();
  es.seconds = std::chrono::duration<double>(clock::now() - t0).count();
  es.rel_change.resize(L);
  for (int k = 1; k <= L; ++k) {
    double d = 0;
    for (std::size_t i = 0; i < net_.W[k].size(); ++i) d += std::pow(double(net_.W[k][i]) - start.W[k][i], 2);
    for (std::size_t i = 0; i < net_.b[k].size(); ++i) d += std::pow(double(net_.b[k][i]) - start.b[k][i], 2);
    const double n = layer_norm(start, k);
    es.rel_change[k - 1] = n > 0 ? std::sqrt(d) / n : 0.0;
  }
  return es;
}

StateStats Trainer::evaluate(const Dataset& data, int steps, Particles* particles) {
  const int chunk = cfg_.eval_chunk;
  std::vector<StateStats> parts((data.count + chunk - 1) / chunk);
  for_each_chunk(data.count, chunk, [&](int c, int first, int rows) {
    Workspace& ws = workspaces_.local();
    const float* x = data.row(first);  // a split's rows are contiguous: no gather needed
    if (particles) {
      copy_rows(*particles, first, ws.cur, 0, rows);
    } else {
      ws.cur.zero();
    }
    clamped_drive(net_, x, rows, ws.drive1.data());
    relax(net_, ws.drive1.data(), ws.cur, ws.nxt, rows, steps, cfg_.eps, 0.f, nullptr);
    if (particles) copy_rows(ws.cur, 0, *particles, first, rows);
    parts[c] = state_stats(net_, x, ws.drive1.data(), ws.cur, rows, data.y.data() + first, ws.scratch.data());
  });
  const StateStats s = sum_in_order(parts);
  if (!std::isfinite(s.energy)) check_finite("evaluation", true);
  return s;
}

void Trainer::check_finite(const char* where, bool state_nonfinite) const {
  const int bad = first_nonfinite_layer(net_);
  if (bad == 0 && !state_nonfinite) return;
  std::ostringstream os;
  os << "training diverged in epoch " << epoch_ << " (" << where << "): ";
  if (bad > 0) {
    os << "layer " << bad << " weights or bias hold NaN or infinity";
  } else {
    // Parameters are finite but the energy overflowed: name the layer with the largest weight.
    int worst = 1;
    double largest = 0;
    for (int k = 1; k <= net_.layers(); ++k)
      for (float v : net_.W[k])
        if (std::abs(v) > largest) largest = std::abs(v), worst = k;
    os << "the energy is not finite; layer " << worst << " has the largest weight, |w| = " << largest;
  }
  os << "; try smaller learning rates (alphas)";
  throw DivergenceError(os.str());
}

}  // namespace eqprop
