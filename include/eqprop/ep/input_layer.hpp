// Layer 1, the layer next to the clamped input: its part of the drive that never changes
// while the input is clamped, and its part of the EP update. Everything that treats layer 1
// apart from the others is here; the products over the input's nonzeros are kernels/sparse_input.
#pragma once
#include "eqprop/kernels/sparse_input.hpp"
#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/states.hpp"

namespace eqprop {

// drive1 = x W_1 + b_1 for `rows` samples ([rows x n_1]) (a conv layer 1: P(W_1 * x + b_1)). While the input is clamped this
// part of layer 1's drive never changes, so it is computed once per relaxation, not per step.
// This is the dense product (one sgemm); training and evaluation use sparse_clamped_drive
// (sparse_input.hpp), which the tests check against this.
// scratch: a conv layer 1's buffers (Layers::scratch()[1]; null: made here, for tests).
template <typename T>
void clamped_drive(const NetworkT<T>& net, const T* x /*[rows x n_0]*/, int rows, T* drive1,
                   KindScratch<T>* scratch = nullptr);
// The same over the nonzero inputs: rows [first, first + rows) of x, written at those rows of
// drive1 ([x.rows() x n_1]). Training and evaluation use this one.
// A conv layer 1 needs its input dense: `dense` holds it (resized as needed), and its
// products `scratch` (as for clamped_drive).
template <typename T>
void input_drive(const NetworkT<T>& net, const SparseInput<T>& x, int first, int rows, T* drive1,
                 std::vector<T>& dense, KindScratch<T>* scratch = nullptr) {
  if (net.conv(1)) {
    dense.resize(std::size_t(rows) * net.sizes[0]);
    x.dense_rows(first, rows, dense.data());
    clamped_drive(net, dense.data(), rows, drive1 + std::size_t(first) * net.sizes[1], scratch);
    return;
  }
  sparse_drive(x, first, rows, net.W[1].data(), net.b[1].data(), net.sizes[1], drive1);
}

// diff1 rows [first, first + rows) = h^a_1 - h^b_1 ([B x n_1]): what layer 1's update needs of
// the two phases, since the input is the same in both (x^T h^a - x^T h^b = x^T (h^a - h^b)).
template <typename T>
void layer1_difference(const LayerStates<T>& a, const LayerStates<T>& b, int first, int rows, T* diff1);

// Rows [r0, r1) of W1 += c x^T diff1, over the nonzero inputs of the minibatch x; W1: [n_0 x n_1],
// net's W_1 itself or a momentum velocity shaped as it. lists: the calling task's buffers for
// those rows' entries by unit.
template <typename T>
void input_update(const NetworkT<T>& net, const SparseInput<T>& x, const T* diff1, T c, int r0, int r1, T* W1,
                  UnitLists<T>& lists) {
  lists.build(x, r0, r1);
  sparse_outer_update(lists, diff1, c, W1, net.sizes[1]);
}

}  // namespace eqprop
