// The state dynamics of one chunk of samples: the synchronous clipped update of every
// non-input layer (reference code, model.py), and energy, cost and prediction at a state.
// Works only on the buffers it is handed and reads the network: chunks can run concurrently.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "eqprop/narrow_layer.hpp"
#include "eqprop/network.hpp"
#include "eqprop/sparse_input.hpp"

namespace eqprop {

// The states h_1..h_L of up to `capacity` samples. h[0] is unused: the input stays clamped.
template <typename T>
struct LayerStates {
  std::vector<std::vector<T>> h;  // h[k]: [capacity x n_k], row-major, values in [0,1]
  int capacity = 0;

  LayerStates() = default;
  LayerStates(const std::vector<int>& sizes, int cap);
  T* row(int k, int i) { return h[k].data() + std::size_t(i) * size(k); }
  const T* row(int k, int i) const { return h[k].data() + std::size_t(i) * size(k); }
  int size(int k) const { return static_cast<int>(h[k].size() / std::size_t(capacity)); }
  void zero();
};

// drive1 = x W_1 + b_1 for `rows` samples ([rows x n_1]). While the input is clamped this
// part of layer 1's drive never changes, so it is computed once per relaxation, not per step.
// This is the dense product (one sgemm); training and evaluation use sparse_clamped_drive
// (sparse_input.hpp), which the tests check against this.
template <typename T>
void clamped_drive(const NetworkT<T>& net, const T* x /*[rows x n_0]*/, int rows, T* drive1);
// Runs `steps` synchronous updates of all layers from `cur`, using `nxt` as scratch; the
// result is in `cur` on return (the two are swapped, never copied). With rho' = 1 on the
// closed interval [0,1] and states kept in [0,1], h <- clip(h - eps dF/dh, 0, 1) is
//   h_k <- clip((1-eps) h_k + eps (b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T), 0, 1)
// and the output adds 2 eps beta (y - h_L) (cost C = sum (h_L - y)^2, no 1/2).
// labels ([rows], 0-9) may be null when beta == 0. With an active `top` (W_L^T, fresh), the
// two products with W_L use narrow_layer.hpp's loops instead of sgemm.
template <typename T>
void relax(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt,
           int rows, int steps, T eps, T beta, const std::uint8_t* labels, const NarrowTop<T>* top = nullptr);

// Per-sample figures at a state, summed over the rows (doubles, so the sums of many
// samples keep their precision).
struct StateStats {
  double energy = 0;   // sum of E, input terms included, as the reference code prints it
  double cost = 0;     // sum of C = |h_L - onehot(y)|^2
  long errors = 0;     // argmax(h_L) != y
  long count = 0;
  StateStats& operator+=(const StateStats& o);
};

// The inputs are rows [first, first + rows) of x. scratch: at least [rows x max(n_k)] values.
// top: as for relax().
template <typename T>
StateStats state_stats(const NetworkT<T>& net, const SparseInput<T>& x, int first, const T* drive1,
                       const LayerStates<T>& s, int rows, const std::uint8_t* labels, T* scratch,
                       const NarrowTop<T>* top = nullptr);

}  // namespace eqprop
