#include "eqprop/engine/minibatch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "eqprop/ep/alternating.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"

namespace eqprop {
namespace {
int max_width(const std::vector<int>& sizes) { return *std::max_element(sizes.begin() + 1, sizes.end()); }
// The largest |a - b| over the first `rows` rows of every layer.
float max_change(const LayerStates<float>& a, const LayerStates<float>& b, int rows) {
  float worst = 0.f;
  for (std::size_t k = 1; k < a.h.size(); ++k) {
    const std::size_t n = std::size_t(rows) * a.size(static_cast<int>(k));
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(a.h[k][i] - b.h[k][i]));
  }
  return worst;
}
}  // namespace

void set_input_row(SparseInput<float>& input, int slot, const Dataset& data, int i, const InputCoding& code) {
  if (data.floats) input.set_row(slot, data.float_row(i), code);
  else input.set_row(slot, data.row(i), code);
}

std::vector<double> input_unit_weights(const Dataset& data, const InputCoding& code, int samples) {
  std::vector<double> weights(std::size_t(data.inputs()), 0.0);
  const int n = std::min(samples, data.count);
  if (n <= 0) return weights;
  SparseInput<float> one;
  one.reset(1, data.inputs());
  for (int j = 0; j < n; ++j) {
    set_input_row(one, 0, data, static_cast<int>(long(j) * data.count / n), code);
    const int* unit = one.row_unit().data() + one.row_begin(0);
    for (int e = 0; e < one.row_count(0); ++e) weights[std::size_t(unit[e])] += 1.0;
  }
  return weights;
}

namespace {
// The layer kinds' buffers of this workspace, made at its first use (sized for its capacity).
std::vector<KindScratch<float>>& kind_scratch(const Network& net, const Layers<float>& layers, Workspace& ws) {
  if (ws.kinds.empty()) ws.kinds = layers.scratch(net, ws.cur.capacity);
  return ws.kinds;
}
}  // namespace

int relax_phase(const Network& net, const Layers<float>& layers, const Config& cfg, const float* drive1, Workspace& ws,
                int rows, int steps, float beta, const Label* y) {
  kind_scratch(net, layers, ws);
  const bool nudged = y != nullptr;
  const bool alternating = cfg.relax == RelaxScheme::Alternating && !(nudged && cfg.relax_nudged == NudgedRelax::Sync);
  if (alternating)
    return relax_alternating(net, drive1, ws.cur, ws.nxt, rows, steps, beta, y, cfg.tol, &layers, &ws.kinds);
  if (cfg.tol <= 0.f) {
    relax(net, drive1, ws.cur, ws.nxt, rows, steps, cfg.eps, beta, y, &layers, &ws.kinds);
    return steps;
  }
  for (int t = 1; t <= steps; ++t) {
    relax(net, drive1, ws.cur, ws.nxt, rows, 1, cfg.eps, beta, y, &layers, &ws.kinds);
    if (max_change(ws.cur, ws.nxt, rows) < cfg.tol) return t;  // nxt holds the state before the step
  }
  return steps;
}

Workspace::Workspace(const std::vector<int>& sizes, int cap)
    : cur(sizes, cap), nxt(sizes, cap), drive1(std::size_t(cap) * sizes[1]),
      scratch(std::size_t(cap) * max_width(sizes)) {}

void copy_rows(const LayerStates<float>& from, int from_row, LayerStates<float>& to, int to_row, int rows) {
  for (std::size_t k = 1; k < from.h.size(); ++k) {
    const int n = from.size(static_cast<int>(k));
    std::memcpy(to.row(static_cast<int>(k), to_row), from.row(static_cast<int>(k), from_row),
                std::size_t(rows) * n * sizeof(float));
  }
}

Minibatch::Minibatch(const Config& cfg) {
  const auto sizes = cfg.layer_sizes();
  const int B = cfg.batch;
  y.assign(B, 0);
  // Room for moved images of either kind: a few kB per minibatch, only with augmentation.
  const bool moved = cfg.max_shift > 0 || cfg.flip;
  shifted.assign(moved ? std::size_t(B) * sizes[0] : 0, std::uint8_t(0));
  shifted_f.assign(moved ? std::size_t(B) * sizes[0] : 0, 0.f);
  free = LayerStates<float>(sizes, B);
  nudged = LayerStates<float>(sizes, B);
  if (cfg.nudging == Nudging::Symmetric) nudged2 = LayerStates<float>(sizes, B);
  chunk_stats.assign(cfg.train_chunks(), StateStats{});
  row_sums.assign(2 * std::size_t(B), 0.0);
  diff1.assign(std::size_t(B) * sizes[1], 0.f);
  drive1.assign(std::size_t(B) * sizes[1], 0.f);
}

void chunk_drive(const Network& net, const Layers<float>& layers, int first, int rows, Minibatch& mb, Workspace& ws) {
  input_drive(net, mb.input, first, rows, mb.drive1.data(), ws.dense_input, &kind_scratch(net, layers, ws)[1]);
}

void relax_chunk(const Network& net, const Layers<float>& layers, const Config& cfg, float beta, int c, int first,
                 int rows, Minibatch& mb, Workspace& ws) {
  const bool symmetric = cfg.nudging == Nudging::Symmetric;
  const float* drive1 = mb.drive1.data() + std::size_t(first) * net.sizes[1];  // [rows x n_1]
  const Label* y = mb.y.data() + first;
  // Free phase; its end state is the new particle (reference code: only the free phase is stored).
  const int free_steps = relax_phase(net, layers, cfg, drive1, ws, rows, cfg.n_free, 0.f, nullptr);
  copy_rows(ws.cur, 0, mb.free, first, rows);
  StateStats& stats = mb.chunk_stats[c];
  stats = state_stats(net, mb.input, first, drive1, ws.cur, rows, y, ws.scratch.data(), &layers, &ws.kinds,
                      static_cast<float*>(nullptr), mb.row_sums.data() + 2 * std::size_t(first));
  stats.free_steps = double(free_steps) * rows;
  // Nudged phase(s), each from the free fixed point.
  stats.nudged_steps = double(relax_phase(net, layers, cfg, drive1, ws, rows, cfg.n_nudged, beta, y)) * rows;
  copy_rows(ws.cur, 0, mb.nudged, first, rows);
  if (symmetric) {
    copy_rows(mb.free, first, ws.cur, 0, rows);
    stats.nudged_steps += double(relax_phase(net, layers, cfg, drive1, ws, rows, cfg.n_nudged, -beta, y)) * rows;
    copy_rows(ws.cur, 0, mb.nudged2, first, rows);
  }
  layer1_difference(mb.nudged, mb.phase_b(cfg.nudging), first, rows, mb.diff1.data());
}

StateStats evaluate_chunk(const Network& net, const Layers<float>& layers, const InputCoding& code, const Config& cfg,
                          int steps, const Dataset& data, int first, int rows, Workspace& ws, float* scores) {
  ws.input.reset(rows, data.inputs());
  for (int i = 0; i < rows; ++i) set_input_row(ws.input, i, data, first + i, code);
  input_drive(net, ws.input, 0, rows, ws.drive1.data(), ws.dense_input, &kind_scratch(net, layers, ws)[1]);
  const int done = relax_phase(net, layers, cfg, ws.drive1.data(), ws, rows, steps, 0.f, nullptr);
  StateStats s = state_stats(net, ws.input, 0, ws.drive1.data(), ws.cur, rows, data.y.data() + first, ws.scratch.data(),
                             &layers, &ws.kinds, scores);
  s.free_steps = double(done) * rows;
  return s;
}

}  // namespace eqprop
