// One minibatch of EP training, cut into chunks of samples: the buffers the chunk tasks share
// (each task writes only its own rows) and the work of one chunk, the free phase and the
// nudged phase(s). No threads here: the Trainer runs the chunks as tasks.
#pragma once
#include <cstdint>
#include <vector>

#include "eqprop/config.hpp"
#include "eqprop/kernels/sparse_input.hpp"
#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/states.hpp"
#include "eqprop/io/dataset.hpp"
#include "eqprop/engine/workspace.hpp"

namespace eqprop {

struct Minibatch {
  SparseInput<float> input;          // the minibatch's inputs: their nonzero entries
  std::vector<Label> y;              // [B]
  std::vector<std::uint8_t> shifted; // [B x n_0] with max-shift or flip: the moved images' bytes (else empty)
  std::vector<float> shifted_f;      // the same for float32 images
  std::vector<float> drive1;         // [B x n_1]: x W_1 + b_1, the clamped part of layer 1's drive
  LayerStates<float> free, nudged, nudged2;  // [B x n_k] each; nudged2 only with symmetric nudging
  std::vector<StateStats> chunk_stats;       // one slot per chunk, summed in chunk order
  std::vector<double> row_sums;      // [B x 2]: each sample's free-phase energy and cost (state_stats)
  std::vector<float> diff1;          // [B x n_1]: h^a_1 - h^b_1, filled by the chunk tasks

  Minibatch() = default;
  explicit Minibatch(const Config& cfg);
  int batch() const { return static_cast<int>(y.size()); }
  // The states the update reads: a = nudged, b = free (one-sided) or nudged2 (symmetric).
  const LayerStates<float>& phase_b(Nudging n) const { return n == Nudging::Symmetric ? nudged2 : free; }
};

// The rows [first, first + rows) of the minibatch, whose inputs are already in mb.input and
// their x W_1 + b_1 in mb.drive1 (chunk_drive(), or the trainer's DrivePipeline): the free phase from the states in ws.cur (the particles, or zeros); its figures
// into mb.chunk_stats[c] and its rows' energies and costs into mb.row_sums; the nudged phase
// at beta (and with symmetric nudging, one at -beta), each from the free fixed point; and
// h^a_1 - h^b_1 into mb.diff1. On return ws.cur holds the last phase's end state and mb.free
// the free end state (the new particles).
void relax_chunk(const Network& net, const Layers<float>& layers, const Config& cfg, float beta, int c, int first,
                 int rows, Minibatch& mb, Workspace& ws);
// x W_1 + b_1 of rows [first, first + rows) of mb.input into those rows of mb.drive1: the
// clamped part of layer 1's drive, over the nonzero inputs (a conv layer 1: its dense product).
void chunk_drive(const Network& net, const Layers<float>& layers, int first, int rows, Minibatch& mb, Workspace& ws);

// Row `slot` of `input` := example `i` of `data` through `code` (bytes or float32 images).
void set_input_row(SparseInput<float>& input, int slot, const Dataset& data, int i, const InputCoding& code);
// Per input unit, in how many of `samples` examples spread evenly over `data` (all of them
// if fewer) it is nonzero through `code`: the work each row of W_1 brings to the sparse drive
// and update, for cutting W_1 into blocks of equal work (update_blocks).
std::vector<double> input_unit_weights(const Dataset& data, const InputCoding& code, int samples);

// One phase of `steps` at most from the states in ws.cur (result there), by cfg's scheme
// (relax: sync or alternating; a nudged phase, y given, takes sync steps when relax-nudged is
// sync) and tolerance (tol); returns the steps or sweeps done. The
// stop is decided per chunk, and chunks are fixed by the configuration: the bits do not
// depend on threads or ranks.
int relax_phase(const Network& net, const Layers<float>& layers, const Config& cfg, const float* drive1, Workspace& ws,
                int rows, int steps, float beta, const Label* y);

// One evaluation chunk, rows [first, first + rows) of data (their values through `code`): the free phase of `steps` from the
// states in ws.cur (left there) and the figures at its end; scores (optional): the rows' class
// scores ([rows x classes], state_stats()).
StateStats evaluate_chunk(const Network& net, const Layers<float>& layers, const InputCoding& code, const Config& cfg,
                          int steps, const Dataset& data, int first, int rows, Workspace& ws, float* scores = nullptr);

}  // namespace eqprop
