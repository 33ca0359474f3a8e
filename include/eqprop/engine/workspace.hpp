// Workspace: one thread's scratch, allocated once per thread and reused for every chunk it
// relaxes. Tasks own only their Workspace and their own rows of the shared buffers.
#pragma once
#include <vector>

#include "eqprop/kernels/sparse_input.hpp"
#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/states.hpp"

namespace eqprop {

struct Workspace {
  LayerStates<float> cur, nxt;   // [cap x n_k] each: the relaxing state and the step's output
  std::vector<float> drive1;     // [cap x n_1]: x W_1 + b_1 (evaluation chunks)
  SparseInput<float> input;      // the nonzero inputs of an evaluation chunk
  std::vector<float> scratch;    // [cap x max n_k]: energy terms
  std::vector<KindScratch<float>> kinds;  // per layer: the layer kinds' buffers (made at the first relaxation)
  std::vector<float> dense_input;         // [cap x n_0]: a conv layer 1's input with its zeros
  UpdateScratch<float> update;            // the reducer's tasks run on this thread
  double busy = 0;  // seconds of this thread's tasks in the current parallel region (speed accounting)
  Workspace() = default;
  Workspace(const std::vector<int>& sizes, int cap);
};

// rows [from_row, from_row + rows) of every layer of `from` into `to` at to_row.
void copy_rows(const LayerStates<float>& from, int from_row, LayerStates<float>& to, int to_row, int rows);

}  // namespace eqprop
