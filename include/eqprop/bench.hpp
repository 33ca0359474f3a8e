// The `bench` command: a fixed amount of training and evaluation on real MNIST, reported
// as 'key value' lines (samples/s, achieved GFLOP/s, a plain sgemm GFLOP/s for scale).
#pragma once
#include <iosfwd>

#include "eqprop/config.hpp"

namespace eqprop {

void run_bench(const Config& cfg, std::ostream& out);
// Single-thread sgemm rate on an n x n x n product, best of `repeats`.
double sgemm_gflops(int n, int repeats);

}  // namespace eqprop
