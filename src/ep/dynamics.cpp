#include "eqprop/ep/dynamics.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "eqprop/kernels/blend.hpp"
#include "eqprop/ep/readout.hpp"
#include "eqprop/ep/rows.hpp"

namespace eqprop {

template <typename T>
void readout_state(const NetworkT<T>& net, const Layers<T>& kinds, std::vector<KindScratch<T>>& sc, const T* below,
                   int rows, T beta, const Label* labels, T* out) {
  const int L = net.layers();
  if (beta != T(0)) {
    kinds[L].bias(net, rows, out);
    kinds[L].up(net, rows, below, out, sc[L]);
  }
  softmax_nudge(rows, net.sizes[L], out, beta, labels, out);  // beta 0: zeros, the logits unread
}

template <typename T>
void set_readout(const NetworkT<T>& net, const Layers<T>& kinds, std::vector<KindScratch<T>>& sc, LayerStates<T>& cur,
                 LayerStates<T>& nxt, int rows, T beta, const Label* labels) {
  const int L = net.layers();
  readout_state(net, kinds, sc, cur.h[L - 1].data(), rows, beta, labels, nxt.h[L].data());
  std::copy_n(nxt.h[L].begin(), std::size_t(rows) * net.sizes[L], cur.h[L].begin());
}

template <typename T>
void relax(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
           int steps, T eps, T beta, const Label* labels, const Layers<T>* layers,
           std::vector<KindScratch<T>>* scratch) {
  const std::optional<Layers<T>> plain = layers ? std::nullopt : std::optional<Layers<T>>(std::in_place, net, false);
  const Layers<T>& kinds = layers ? *layers : *plain;
  std::vector<KindScratch<T>> own = scratch ? std::vector<KindScratch<T>>() : kinds.scratch(net, rows);
  std::vector<KindScratch<T>>& sc = scratch ? *scratch : own;
  const int L = net.layers();  // >= 2: there is always a hidden layer
  const T keep = T(1) - eps;
  const T pull = T(2) * eps * beta;  // output nudge: -eps * d(beta C)/dh_L = 2 eps beta (y - h_L)
  const bool readout = net.softmax_readout;
  for (int t = 0; t < steps; ++t) {
    // d_k: [rows x n_k], the drive b_k + f_k(h_{k-1}) + the top-down part of layer k+1. The
    // bottom-up parts of every layer come first: a pooled conv layer's down_blend reads the
    // choices its up() made from the current h_{k-1}. For layer 1 the clamped part b_1 + x W_1
    // is not copied in: the blend reads it from drive1.
    // The readout's state from the current h_{L-1}, before layer L-1 reads it as its nudge.
    if (readout) set_readout(net, kinds, sc, cur, nxt, rows, beta, labels);
    for (int k = 2; k <= (readout ? L - 1 : L); ++k) {
      kinds[k].bias(net, rows, nxt.h[k].data());
      kinds[k].up(net, rows, cur.h[k - 1].data(), nxt.h[k].data(), sc[k]);
    }
    for (int k = 1; k <= (readout ? L - 1 : L); ++k) {
      const int n = net.sizes[k];
      T* d = nxt.h[k].data();
      const T* h = cur.h[k].data();
      if (k < L) {
        // The layer above adds its top-down part, then blends and clips.
        kinds[k + 1].down_blend(net, rows, cur.h[k + 1].data(), k == 1 ? drive1 : nullptr, h, keep, eps, d, sc[k + 1]);
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
  // The final readout state from the final h_{L-1}: the EP update reads it as dPhi/dW_L's part.
  if (readout && steps > 0) set_readout(net, kinds, sc, cur, nxt, rows, beta, labels);
}

template <typename T>
StateStats state_stats(const NetworkT<T>& net, const SparseInput<T>& x, int first, const T* drive1,
                       const LayerStates<T>& s, int rows, const Label* labels, T* scratch,
                       const Layers<T>* layers, std::vector<KindScratch<T>>* kind_scratch, T* scores,
                       double* row_sums) {
  const std::optional<Layers<T>> plain = layers ? std::nullopt : std::optional<Layers<T>>(std::in_place, net, false);
  const Layers<T>& kinds = layers ? *layers : *plain;
  std::vector<KindScratch<T>> own = kind_scratch ? std::vector<KindScratch<T>>() : kinds.scratch(net, rows);
  std::vector<KindScratch<T>>& sc = kind_scratch ? *kind_scratch : own;
  const int L = net.layers();
  StateStats st;
  st.count = rows;
  const int L_dyn = net.softmax_readout ? L - 1 : L;  // the layers in the dynamics
  st.at0.assign(L + 1, 0.0);
  st.at1.assign(L + 1, 0.0);
  st.units.assign(L + 1, 0.0);
  st.active.assign(net.sizes[L], 0.0);
  if (row_sums) std::fill(row_sums, row_sums + 2 * std::size_t(rows), 0.0);
  for (int k = 1; k <= L_dyn; ++k) {
    long zeros = 0, ones = 0;
    const std::size_t n = std::size_t(rows) * net.sizes[k];
    const T* h = s.h[k].data();
    for (std::size_t u = 0; u < n; ++u) zeros += h[u] == T(0), ones += h[u] == T(1);
    st.at0[k] = double(zeros);
    st.at1[k] = double(ones);
    st.units[k] = double(n);
  }
  // Layers 2..L: 1/2 |h_k|^2 - h_k . (b_k + h_{k-1} W_k); with the readout, 2..L-1, and the
  // scratch is left holding the readout's logits for the cost and the prediction.
  const bool readout = net.softmax_readout;
  for (int k = 2; k <= L; ++k) {
    const int n = net.sizes[k];
    kinds[k].bias(net, rows, scratch);
    kinds[k].up(net, rows, s.h[k - 1].data(), scratch, sc[k]);
    if (k == L && readout) break;
    for (int i = 0; i < rows; ++i) {
      const T* h = s.row(k, i);
      double acc = 0;
      for (int j = 0; j < n; ++j) acc += double(h[j]) * (0.5 * h[j] - scratch[std::size_t(i) * n + j]);
      st.energy += acc;
      if (row_sums) row_sums[2 * i] += acc;
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
    if (row_sums) row_sums[2 * i] += e;
    // Cost and prediction at the output: its states, or the readout's logits and loss.
    const int nL = net.sizes[L];
    const T* out = readout ? scratch + std::size_t(i) * nL : s.row(L, i);
    if (scores) std::copy(out, out + nL, scores + std::size_t(i) * nL);
    int best = 0;
    double row_cost = 0;
    for (int j = 0; j < nL; ++j) {
      if (!readout) {
        const double diff = double(out[j]) - (labels[i] == j ? 1.0 : 0.0);
        st.cost += diff * diff;
        row_cost += diff * diff;
      }
      if (out[j] > out[best]) best = j;
      if (!readout && out[j] > T(0)) st.active[j] += 1;
    }
    if (readout) st.active[best] += 1;
    if (readout) {
      row_cost = softmax_loss(nL, out, labels[i]);
      st.cost += row_cost;
    }
    if (row_sums) row_sums[2 * i + 1] = row_cost;
    if (best != labels[i]) ++st.errors;
  }
  return st;
}

template void readout_state(const NetworkT<float>&, const Layers<float>&, std::vector<KindScratch<float>>&, const float*,
                            int, float, const Label*, float*);
template void readout_state(const NetworkT<double>&, const Layers<double>&, std::vector<KindScratch<double>>&,
                            const double*, int, double, const Label*, double*);
template void set_readout(const NetworkT<float>&, const Layers<float>&, std::vector<KindScratch<float>>&,
                          LayerStates<float>&, LayerStates<float>&, int, float, const Label*);
template void set_readout(const NetworkT<double>&, const Layers<double>&, std::vector<KindScratch<double>>&,
                          LayerStates<double>&, LayerStates<double>&, int, double, const Label*);
template void relax(const NetworkT<float>&, const float*, LayerStates<float>&, LayerStates<float>&, int, int,
                    float, float, const Label*, const Layers<float>*, std::vector<KindScratch<float>>*);
template void relax(const NetworkT<double>&, const double*, LayerStates<double>&, LayerStates<double>&, int,
                    int, double, double, const Label*, const Layers<double>*, std::vector<KindScratch<double>>*);
template StateStats state_stats(const NetworkT<float>&, const SparseInput<float>&, int, const float*,
                                const LayerStates<float>&, int, const Label*, float*, const Layers<float>*,
                                std::vector<KindScratch<float>>*, float*, double*);
template StateStats state_stats(const NetworkT<double>&, const SparseInput<double>&, int, const double*,
                                const LayerStates<double>&, int, const Label*, double*,
                                const Layers<double>*, std::vector<KindScratch<double>>*, double*, double*);

}  // namespace eqprop
