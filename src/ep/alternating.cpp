#include "eqprop/ep/alternating.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "eqprop/kernels/blend.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/rows.hpp"

namespace eqprop {

template <typename T>
T alternating_half_sweep(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
                         int parity, T beta, const Label* labels, const Layers<T>* layers,
                         std::vector<KindScratch<T>>* scratch, bool chosen) {
  const std::optional<Layers<T>> plain = layers ? std::nullopt : std::optional<Layers<T>>(std::in_place, net, false);
  const Layers<T>& kinds = layers ? *layers : *plain;
  std::vector<KindScratch<T>> own = scratch ? std::vector<KindScratch<T>>() : kinds.scratch(net, rows);
  std::vector<KindScratch<T>>& sc = scratch ? *scratch : own;
  const int L = net.layers();
  T change = T(0);
  for (int k = (parity == 1 ? 1 : 2); k <= L; k += 2) {
    const int n = net.sizes[k];
    const std::size_t count = std::size_t(rows) * n;
    T* d = nxt.h[k].data();
    const T* h = cur.h[k].data();
    if (k == L && net.softmax_readout) {
      // A function of h_{L-1}: set, not relaxed.
      readout_state(net, kinds, sc, cur.h[L - 1].data(), rows, beta, labels, d);
    } else {
      if (k > 1) {
        kinds[k].bias(net, rows, d);
        kinds[k].up(net, rows, cur.h[k - 1].data(), d, sc[k]);
      }
      if (k < L) {
        // keep 0, eps 1: the blend becomes clip(drive), the exact minimum (0 * h is 0: states are finite).
        // A pooled conv layer above reads its choices from the current h_k: made by its up() of the
        // previous half-sweep (chosen, and only with the caller's scratch), else made here.
        if (!(chosen && scratch)) kinds[k + 1].choose(net, rows, h, sc[k + 1]);
        kinds[k + 1].down_blend(net, rows, cur.h[k + 1].data(), k == 1 ? drive1 : nullptr, h, T(0), T(1), d, sc[k + 1]);
      } else if (beta == T(0)) {
        blend_rows(d, h, d, static_cast<const T*>(nullptr), T(0), T(1), count);
      } else {
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < n; ++j) {
            const std::size_t ij = std::size_t(i) * n + j;
            d[ij] = output_minimum(d[ij], beta, labels[i] == j ? T(1) : T(0));
          }
      }
    }
    for (std::size_t i = 0; i < count; ++i) change = std::max(change, T(std::abs(d[i] - h[i])));
    // The odd layers read only even ones (and the reverse): each new layer replaces its old
    // one at once.
    std::swap(cur.h[k], nxt.h[k]);
  }
  return change;
}

template <typename T>
int relax_alternating(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
                      int max_sweeps, T beta, const Label* labels, T tol, const Layers<T>* layers,
                      std::vector<KindScratch<T>>* scratch) {
  const std::optional<Layers<T>> plain = layers ? std::nullopt : std::optional<Layers<T>>(std::in_place, net, false);
  const Layers<T>* kinds = layers ? layers : &*plain;
  std::vector<KindScratch<T>> own = scratch ? std::vector<KindScratch<T>>() : kinds->scratch(net, rows);
  std::vector<KindScratch<T>>* sc = scratch ? scratch : &own;
  // The readout's state from the final h_{L-1}, which the EP update reads: an even L's half
  // comes after h_{L-1}'s and already has it; an odd L's comes before and is made again.
  auto finish = [&](int sweeps) {
    if (net.softmax_readout && net.layers() % 2 == 1 && sweeps > 0)
      set_readout(net, *kinds, *sc, cur, nxt, rows, beta, labels);
    return sweeps;
  };
  for (int s = 1; s <= max_sweeps; ++s) {
    // Only the phase's first half-sweep needs fresh pool choices: after it, every layer's up()
    // has made them from the states its lower neighbour keeps until its own half-sweep.
    const T odd = alternating_half_sweep(net, drive1, cur, nxt, rows, 1, beta, labels, kinds, sc, s > 1);
    const T even = alternating_half_sweep(net, drive1, cur, nxt, rows, 0, beta, labels, kinds, sc, true);
    if (tol > T(0) && std::max(odd, even) < tol) return finish(s);
  }
  return finish(max_sweeps);
}

template float alternating_half_sweep(const NetworkT<float>&, const float*, LayerStates<float>&, LayerStates<float>&,
                                      int, int, float, const Label*, const Layers<float>*, std::vector<KindScratch<float>>*, bool);
template double alternating_half_sweep(const NetworkT<double>&, const double*, LayerStates<double>&,
                                       LayerStates<double>&, int, int, double, const Label*, const Layers<double>*,
                                       std::vector<KindScratch<double>>*, bool);
template int relax_alternating(const NetworkT<float>&, const float*, LayerStates<float>&, LayerStates<float>&, int, int,
                               float, const Label*, float, const Layers<float>*, std::vector<KindScratch<float>>*);
template int relax_alternating(const NetworkT<double>&, const double*, LayerStates<double>&, LayerStates<double>&, int,
                               int, double, const Label*, double, const Layers<double>*, std::vector<KindScratch<double>>*);

}  // namespace eqprop
