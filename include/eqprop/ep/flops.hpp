// Exact floating-point operation counts of the training step and of evaluation, for the
// GFLOP/s that bench reports. Counted: the multiply-adds of every matrix product (2 flops
// each). Not counted: the O(units) elementwise work (blend, clip, copies), which is small
// beside the products and is memory traffic rather than arithmetic.
#pragma once
#include "eqprop/config.hpp"

namespace eqprop {

// Per training sample, with n_k the layer sizes, L the number of weight layers,
// T = n_free + n_nudged * (2 if symmetric else 1) relaxation steps, and s the input units the
// products use (n_0, or the mean number of nonzero inputs per sample, sparse_input.hpp):
//   x W_1 once:                          2 s n_1
//   per step, bottom-up and top-down:    T * 4 * sum_{k=2..L} n_{k-1} n_k
//   energy at the free state:            2 * sum_{k=2..L} n_{k-1} n_k
//   update, W_1 via x^T (h^a - h^b):      2 s n_1
//   update, W_k (k >= 2), two products:  4 * sum_{k=2..L} n_{k-1} n_k
// input_units <= 0 means s = n_0: the dense count.
double train_flops_per_sample(const Config& cfg, double input_units = 0);
// Per evaluated sample: 2 n_0 n_1 + steps * 4 sum + 2 sum (energy).
double eval_flops_per_sample(const Config& cfg, int steps);

}  // namespace eqprop
