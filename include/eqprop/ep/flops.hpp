// Exact floating-point operation counts of the training step and of evaluation, for the
// GFLOP/s that bench reports. Counted: the multiply-adds of every matrix product (2 flops
// each). Not counted: the O(units) elementwise work (blend, clip, pooling, copies), which is
// small beside the products and is memory traffic rather than arithmetic.
#pragma once
#include "eqprop/config.hpp"

namespace eqprop {

// m_k: the multiply-adds of one product of W_k with one sample's states: n_{k-1} n_k for a
// dense layer, C_out C_in K^2 H_out W_out for a conv layer (before its pool).
double coupling_macs(const Config& cfg, int k);

// Per training sample, with L the number of weight layers, M = sum_{k=2..L} m_k,
// T = n_free + n_nudged * (2 if symmetric else 1) relaxation steps, and s the input units the
// products use (n_0, or the mean number of nonzero inputs per sample, sparse_input.hpp):
//   the input's product (x W_1, or layer 1's convolution) once:   2 s n_1 (conv: 2 m_1)
//   per step, bottom-up and top-down:                           T * 4 M
//   energy at the free state:                                   2 M
//   update, W_1 via x^T (h^a - h^b):                             2 s n_1
//   update, W_k (k >= 2), two products:                         4 m_k
//   (a pooled conv layer's update also convolves both phases again for the pool's
//   choices: 8 m_k, layer 1 included)
// With the cross-entropy readout, m_L's products are 2 m_L per nudged step (+1 per nudged
// phase) instead of 4 m_L per step. input_units <= 0 means s = n_0: the dense count.
double train_flops_per_sample(const Config& cfg, double input_units = 0);
// Per evaluated sample: the input's product + steps * 4 M + 2 M (energy).
double eval_flops_per_sample(const Config& cfg, int steps);

}  // namespace eqprop
