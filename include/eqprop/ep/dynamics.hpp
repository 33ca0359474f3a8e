// The state dynamics of one chunk of samples: the synchronous clipped update of every
// non-input layer (reference code, model.py), and energy, cost and prediction at a state.
// Works only on the buffers it is handed and reads the network: chunks can run concurrently.
#pragma once
#include <cstdint>

#include "eqprop/data_facts.hpp"
#include "eqprop/kernels/sparse_input.hpp"
#include "eqprop/ep/layer_kind.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/states.hpp"

namespace eqprop {

// The cross-entropy readout's state (net.softmax_readout, ep/readout.hpp) from h_{L-1} = below
// ([rows x n_{L-1}]): out = beta (onehot - softmax(h_{L-1} W_L + b_L)), zeros without a product
// when beta is 0.
template <typename T>
void readout_state(const NetworkT<T>& net, const Layers<T>& kinds, std::vector<KindScratch<T>>& scratch,
                   const T* below, int rows, T beta, const Label* labels, T* out);
// The same from cur's h_{L-1} into cur.h[L] and nxt.h[L] (both: a step's swap keeps it).
template <typename T>
void set_readout(const NetworkT<T>& net, const Layers<T>& kinds, std::vector<KindScratch<T>>& scratch,
                 LayerStates<T>& cur, LayerStates<T>& nxt, int rows, T beta, const Label* labels);

// Runs `steps` synchronous updates of all layers from `cur`, using `nxt` as scratch; the
// result is in `cur` on return (the two are swapped, never copied). With rho' = 1 on the
// closed interval [0,1] and states kept in [0,1], h <- clip(h - eps dF/dh, 0, 1) is
//   h_k <- clip((1-eps) h_k + eps (b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T), 0, 1)
// and the output adds 2 eps beta (y - h_L) (cost C = sum (h_L - y)^2, no 1/2).
// labels ([rows], 0-9) may be null when beta == 0. Every product with a W_k goes through the
// layer's kind (layer_kind.hpp); `layers` must be refreshed since W last changed. Without it
// the plain products are used (the same figures up to rounding; slower). scratch: the
// chunk's KindScratch per layer (Layers::scratch; null: made here, for tests).
template <typename T>
void relax(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt,
           int rows, int steps, T eps, T beta, const Label* labels, const Layers<T>* layers = nullptr,
           std::vector<KindScratch<T>>* kind_scratch = nullptr);


// The figures of every row of the state s, summed (StateStats). The inputs are rows
// [first, first + rows) of x; drive1 holds their clamped drive. scratch: at least [rows x max(n_k)] values.
// layers: as for relax(). scores (optional, [rows x n_L]): each row's class scores, the
// output states or the readout's logits; the prediction is the first largest.
// row_sums (optional, [rows x 2]): each row's energy and cost on their own, each summed in an
// order fixed within the row, so that a sum over rows in row order does not depend on how the
// rows were grouped into calls (the figures of the struct are summed over the call's rows).
template <typename T>
StateStats state_stats(const NetworkT<T>& net, const SparseInput<T>& x, int first, const T* drive1,
                       const LayerStates<T>& s, int rows, const Label* labels, T* scratch,
                       const Layers<T>* layers = nullptr, std::vector<KindScratch<T>>* kind_scratch = nullptr,
                       T* scores = nullptr, double* row_sums = nullptr);

}  // namespace eqprop
