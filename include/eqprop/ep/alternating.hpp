// Alternating relaxation: block coordinate descent on F = E + beta C. Given the even layers,
// the odd layers do not interact (E has no terms within a layer and none between layers two
// apart), so each can be set to its exact conditional minimum at once; then the even layers
// given the new odd ones. One sweep = the odd half-sweep, then the even one; it costs the
// products of one synchronous step. F never rises over a half-sweep, and the fixed points are
// those of the synchronous dynamics (docs/design.md derives both).
//
// Per unit j of a hidden layer k, F restricted to h_kj is 1/2 h^2 - h d_kj on [0, 1] with
// d_k = b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T: the minimum is clip(d_kj, 0, 1). The output
// layer adds beta (h - y_j)^2 (the reference code's cost, no 1/2): with a = 1 + 2 beta > 0 the
// minimum is clip((d + 2 beta y) / a, 0, 1); with a <= 0 (beta <= -1/2: the random sign
// with beta >= 1/2) the restriction is concave or linear and its minimum over [0, 1] is an
// end point: 1 where f(1) - f(0) = 1/2 - d + beta (1 - 2 y) < 0, else 0.
#pragma once
#include "eqprop/data_facts.hpp"
#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/states.hpp"

namespace eqprop {

// The output unit's exact minimiser of 1/2 h^2 - d h + beta (h - y)^2 over [0, 1].
template <typename T>
T output_minimum(T d, T beta, T y) {
  const T a = T(1) + T(2) * beta;
  if (a > T(0)) {
    const T v = (d + T(2) * beta * y) / a;
    return v < T(0) ? T(0) : v > T(1) ? T(1) : v;
  }
  return (T(0.5) - d + beta * (T(1) - T(2) * y)) < T(0) ? T(1) : T(0);
}

// One half-sweep: every layer k of the given parity (1: odd, 0: even) set to its exact
// conditional minimum from the other layers of `cur`; the new states replace those layers in
// `cur` (nxt: scratch of the same shape). drive1: layer 1's clamped drive b_1 + x W_1
// ([rows x n_1]). Returns the largest |new - old| of the changed units.
// chosen: the pooled conv layers above the changed ones already hold, in `scratch`, the pool's
// choices from the current states below them (the previous half-sweep's up() made them from
// the very states this one reads, since a layer's neighbours change only in the other half);
// false: they are made again (choose()), as the first half-sweep of a phase must.
template <typename T>
T alternating_half_sweep(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
                         int parity, T beta, const Label* labels, const Layers<T>* layers = nullptr,
                         std::vector<KindScratch<T>>* scratch = nullptr, bool chosen = false);

// Up to max_sweeps sweeps from `cur` (result in `cur`); with tol > 0 it stops after the first
// sweep whose largest state change is below tol. Returns the sweeps done.
template <typename T>
int relax_alternating(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
                      int max_sweeps, T beta, const Label* labels, T tol, const Layers<T>* layers = nullptr,
                      std::vector<KindScratch<T>>* scratch = nullptr);

}  // namespace eqprop
