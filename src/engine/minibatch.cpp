#include "eqprop/engine/minibatch.hpp"

#include <algorithm>
#include <cstring>

#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"

namespace eqprop {
namespace {
int max_width(const std::vector<int>& sizes) { return *std::max_element(sizes.begin() + 1, sizes.end()); }
}  // namespace

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
  diff1.assign(std::size_t(B) * sizes[1], 0.f);
  drive1.assign(std::size_t(B) * sizes[1], 0.f);
}

void relax_chunk(const Network& net, const Layers<float>& layers, const Config& cfg, float beta, int c, int first,
                 int rows, Minibatch& mb, Workspace& ws) {
  const bool symmetric = cfg.nudging == Nudging::Symmetric;
  const float* drive1 = mb.drive1.data() + std::size_t(first) * net.sizes[1];  // [rows x n_1]
  const Label* y = mb.y.data() + first;
  // x W_1 + b_1 over the chunk's nonzero inputs: the clamped part of layer 1's drive.
  input_drive(net, mb.input, first, rows, mb.drive1.data());
  // Free phase; its end state is the new particle (reference code: only the free phase is stored).
  relax(net, drive1, ws.cur, ws.nxt, rows, cfg.n_free, cfg.eps, 0.f, nullptr, &layers);
  copy_rows(ws.cur, 0, mb.free, first, rows);
  mb.chunk_stats[c] = state_stats(net, mb.input, first, drive1, ws.cur, rows, y, ws.scratch.data(), &layers);
  // Nudged phase(s), each from the free fixed point.
  relax(net, drive1, ws.cur, ws.nxt, rows, cfg.n_nudged, cfg.eps, beta, y, &layers);
  copy_rows(ws.cur, 0, mb.nudged, first, rows);
  if (symmetric) {
    copy_rows(mb.free, first, ws.cur, 0, rows);
    relax(net, drive1, ws.cur, ws.nxt, rows, cfg.n_nudged, cfg.eps, -beta, y, &layers);
    copy_rows(ws.cur, 0, mb.nudged2, first, rows);
  }
  layer1_difference(mb.nudged, mb.phase_b(cfg.nudging), first, rows, mb.diff1.data());
}

StateStats evaluate_chunk(const Network& net, const Layers<float>& layers, const InputCoding& code, float eps, int steps,
                          const Dataset& data, int first, int rows, Workspace& ws) {
  ws.input.reset(rows, data.inputs());
  for (int i = 0; i < rows; ++i) {
    if (data.floats) ws.input.set_row(i, data.float_row(first + i), code);
    else ws.input.set_row(i, data.row(first + i), code);
  }
  input_drive(net, ws.input, 0, rows, ws.drive1.data());
  relax(net, ws.drive1.data(), ws.cur, ws.nxt, rows, steps, eps, 0.f, nullptr, &layers);
  return state_stats(net, ws.input, 0, ws.drive1.data(), ws.cur, rows, data.y.data() + first, ws.scratch.data(), &layers);
}

}  // namespace eqprop
