// The EP parameter update: a minibatch's two sets of states turned into one change of every
// W_k and b_k (k >= 1; b_0 is never trained), cut into blocks that touch disjoint parameters.
// The engine's reducer runs the blocks as parallel tasks; ep_update() runs them in order.
#pragma once
#include <vector>

#include "eqprop/kernels/sparse_input.hpp"
#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/states.hpp"

namespace eqprop {

// One task of the update: rows [r0, r0 + m) of W_k, or (m == 0) the bias b_k.
struct UpdateBlock {
  int k, r0, m;
};
// Every layer's blocks in one list, so the whole update is a single parallel region (one
// fork and join per minibatch). The blocks depend on the layer sizes only, never on the
// thread count, so the same GEMM calls (and so the same bits) happen for any --threads.
// A conv layer's rows are its output channels (specs, shapes: the net's; empty: all dense).
// input_weights (optional, one per input unit, for a dense layer 1): W_1's blocks are cut so
// that each holds an equal share of the weights (the expected nonzero inputs, so the same work
// for the sparse drive and update) instead of an equal number of rows. W_1's update is element
// by element, so where its blocks end never changes a bit.
std::vector<UpdateBlock> update_blocks(const std::vector<int>& sizes, const std::vector<LayerSpec>& specs = {},
                                       const std::vector<Shape>& shapes = {},
                                       const std::vector<double>& input_weights = {});

// For the B samples of a minibatch, with states `a` (nudged at beta_a) and `b` (free, or
// nudged at beta_b), and beta_diff = beta_a - beta_b (signed):
//   W_k = (1 - alpha_k lambda) W_k + alpha_k / (beta_diff B) * (h^a_{k-1}^T h^a_k - h^b_{k-1}^T h^b_k)
//   b_k += alpha_k / (beta_diff B) * sum_i (h^a_k - h^b_k)
// with h_0 = x in both, so layer 1 uses x^T diff1 ([B x n_1], from layer1_difference) over
// the nonzero inputs only (input_layer.hpp). For k >= 2 the sum over samples runs inside
// a GEMM (K = B). alphas[k-1] is layer k's rate, lambda = weight_decay (0: no decay, and
// then the weights are not touched by it at all).
// A conv layer k: W_k = keep W_k + alpha_k / (beta_diff B) (dPhi/dW_k(a) - dPhi/dW_k(b)) by its
// kind, with the input x made dense for k = 1, and b_k's channel c changed by the sum of the
// channel's units.
// With a velocity V (shaped as net; momentum mu), SGD with momentum as PyTorch's: the same
// difference dW goes to V = mu V + dW - lambda W (biases: V = mu V + db) and then W += alpha_k V.
// This is the update of one block, through its layer's kind (layers: refreshed or not, the
// update reads only W) and in the buffers of `scratch` (the calling thread's); ep_update()
// applies every block in order.
template <typename T>
void ep_update_block(NetworkT<T>& net, const Layers<T>& layers, const UpdateBlock& block, const SparseInput<T>& x /*B rows*/,
                     const LayerStates<T>& a, const LayerStates<T>& b, int B, const std::vector<T>& alphas,
                     T beta_diff, const T* diff1, UpdateScratch<T>& scratch, T weight_decay = T(0),
                     NetworkT<T>* velocity = nullptr, T momentum = T(0));
template <typename T>
void ep_update(NetworkT<T>& net, const std::vector<UpdateBlock>& blocks, const SparseInput<T>& x /*B rows*/,
               const LayerStates<T>& a, const LayerStates<T>& b, int B, const std::vector<T>& alphas, T beta_diff,
               const T* diff1, T weight_decay = T(0), NetworkT<T>* velocity = nullptr, T momentum = T(0));

}  // namespace eqprop
