#include "eqprop/ep/dynamics.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "eqprop/kernels/blend.hpp"
#include "eqprop/ep/rows.hpp"

namespace eqprop {

template <typename T>
void relax(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
           int steps, T eps, T beta, const Label* labels, const Layers<T>* layers) {
  const std::optional<Layers<T>> plain = layers ? std::nullopt : std::optional<Layers<T>>(std::in_place, net, false);
  const Layers<T>& kinds = layers ? *layers : *plain;
  const int L = net.layers();  // >= 2: there is always a hidden layer
  const T keep = T(1) - eps;
  const T pull = T(2) * eps * beta;  // output nudge: -eps * d(beta C)/dh_L = 2 eps beta (y - h_L)
  for (int t = 0; t < steps; ++t) {
    for (int k = 1; k <= L; ++k) {
      const int n = net.sizes[k];
      // d: [rows x n], the drive b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T. For layer 1 the
      // clamped part b_1 + x W_1 is not copied in: the blend reads it from drive1.
      T* d = nxt.h[k].data();
      if (k > 1) {
        broadcast_rows(net.b[k], rows, d);
        kinds[k].up(net, rows, cur.h[k - 1].data(), d);
      }
      const T* h = cur.h[k].data();
      if (k < L) {
        // The layer above adds its top-down part, then blends and clips.
        kinds[k + 1].down_blend(net, rows, cur.h[k + 1].data(), k == 1 ? drive1 : nullptr, h, keep, eps, d);
      } else if (beta != T(0)) {
        // The output: blend with the old state, nudge towards the label, clip, in one pass.
        for (int i = 0; i < rows; ++i) {
          for (int j = 0; j < n; ++j) {
            const std::size_t ij = std::size_t(i) * n + j;
            const T y = labels[i] == j ? T(1) : T(0);
            const T v = keep * h[ij] + eps * d[ij] + pull * (y - h[ij]);
            d[ij] = std::min(std::max(v, T(0)), T(1));
          }
        }
      } else {
        blend_rows(d, h, d, static_cast<const T*>(nullptr), keep, eps, std::size_t(rows) * n);
      }
    }
    std::swap(cur.h, nxt.h);
  }
}

template <typename T>
StateStats state_stats(const NetworkT<T>& net, const SparseInput<T>& x, int first, const T* drive1,
                       const LayerStates<T>& s, int rows, const Label* labels, T* scratch,
                       const Layers<T>* layers) {
  const std::optional<Layers<T>> plain = layers ? std::nullopt : std::optional<Layers<T>>(std::in_place, net, false);
  const Layers<T>& kinds = layers ? *layers : *plain;
  const int L = net.layers();
  StateStats st;
  st.count = rows;
  // Layers 2..L: 1/2 |h_k|^2 - h_k . (b_k + h_{k-1} W_k).
  for (int k = 2; k <= L; ++k) {
    const int n = net.sizes[k];
    broadcast_rows(net.b[k], rows, scratch);
    kinds[k].up(net, rows, s.h[k - 1].data(), scratch);
    for (int i = 0; i < rows; ++i) {
      const T* h = s.row(k, i);
      double acc = 0;
      for (int j = 0; j < n; ++j) acc += double(h[j]) * (0.5 * h[j] - scratch[std::size_t(i) * n + j]);
      st.energy += acc;
    }
  }
  for (int i = 0; i < rows; ++i) {
    double e = 0;
    // Layer 1: 1/2 |h_1|^2 - h_1 . (b_1 + x W_1); drive1 already holds b_1 + x W_1.
    const int n1 = net.sizes[1];
    const T* h1 = s.row(1, i);
    const T* d1 = drive1 + std::size_t(i) * n1;
    for (int j = 0; j < n1; ++j) e += double(h1[j]) * (0.5 * h1[j] - d1[j]);
    // Input terms: constant in the state, kept so the figure matches the reference code's E.
    // A zero input adds nothing, so the nonzeros are enough.
    const int* unit = x.row_unit().data() + x.row_begin(first + i);
    const T* value = x.row_value().data() + x.row_begin(first + i);
    for (int e_i = 0; e_i < x.row_count(first + i); ++e_i) e += double(value[e_i]) * (0.5 * value[e_i] - net.b[0][unit[e_i]]);
    st.energy += e;
    // Cost and prediction at the output.
    const int nL = net.sizes[L];
    const T* out = s.row(L, i);
    int best = 0;
    for (int j = 0; j < nL; ++j) {
      const double diff = double(out[j]) - (labels[i] == j ? 1.0 : 0.0);
      st.cost += diff * diff;
      if (out[j] > out[best]) best = j;
    }
    if (best != labels[i]) ++st.errors;
  }
  return st;
}

template void relax(const NetworkT<float>&, const float*, LayerStates<float>&, LayerStates<float>&, int, int,
                    float, float, const Label*, const Layers<float>*);
template void relax(const NetworkT<double>&, const double*, LayerStates<double>&, LayerStates<double>&, int,
                    int, double, double, const Label*, const Layers<double>*);
template StateStats state_stats(const NetworkT<float>&, const SparseInput<float>&, int, const float*,
                                const LayerStates<float>&, int, const Label*, float*, const Layers<float>*);
template StateStats state_stats(const NetworkT<double>&, const SparseInput<double>&, int, const double*,
                                const LayerStates<double>&, int, const Label*, double*,
                                const Layers<double>*);

}  // namespace eqprop
