// The `bench` command: a fixed amount of training and evaluation on real MNIST, reported
// as 'key value' lines (samples/s, achieved GFLOP/s, a plain sgemm GFLOP/s for scale).
#pragma once
#include <iosfwd>

#include "eqprop/config.hpp"

namespace eqprop {

void run_bench(const Config& cfg, std::ostream& out);
// Aggregate rate of `threads` single-threaded n x n x n sgemms running at once (one per
// core: the machine's sgemm-rate limit for that many cores), best of `repeats`.
double sgemm_gflops(int n, int repeats, int threads);

}  // namespace eqprop
