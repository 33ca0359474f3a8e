// The EP parameter update: the reducer that turns a minibatch's two sets of states into
// one synchronized change of every W_k and b_k (k >= 1; b_0 is never trained).
#pragma once
#include <vector>

#include "eqprop/dynamics.hpp"

namespace eqprop {

// For the B samples of a minibatch, with states `a` (nudged at beta_a) and `b` (free, or
// nudged at beta_b), and beta_diff = beta_a - beta_b (signed):
//   W_k += alpha_k / (beta_diff B) * (h^a_{k-1}^T h^a_k - h^b_{k-1}^T h^b_k)
//   b_k += alpha_k / (beta_diff B) * sum_i (h^a_k - h^b_k)
// with h_0 = x in both. The sum over samples runs inside a GEMM (K = B) and the weight rows
// are cut into fixed blocks, one task each: the result does not depend on the thread count.
// alphas[k-1] is layer k's rate. diff: scratch of at least [B x n_1].
template <typename T>
void ep_update(NetworkT<T>& net, const T* x /*[B x n_0]*/, const LayerStates<T>& a, const LayerStates<T>& b,
               int B, const std::vector<T>& alphas, T beta_diff, T* diff);

}  // namespace eqprop
