#include "eqprop/ep/dynamics.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/ep/rows.hpp"
#include "eqprop/kernels/clones.hpp"
#include "eqprop/kernels/row_kernels.hpp"

namespace eqprop {

namespace {
// The blend of relax() for the wide layers, compiled per x86-64 level (clones.hpp).
EQPROP_CLONES void blend(float* out, const float* h, const float* d, const float* extra, float keep, float eps,
                         std::size_t count) {
  blend_clip(out, h, d, extra, keep, eps, count);
}
EQPROP_CLONES void blend(double* out, const double* h, const double* d, const double* extra, double keep,
                         double eps, std::size_t count) {
  blend_clip(out, h, d, extra, keep, eps, count);
}
}  // namespace

template <typename T>
void relax(const NetworkT<T>& net, const T* drive1, LayerStates<T>& cur, LayerStates<T>& nxt, int rows,
           int steps, T eps, T beta, const std::uint8_t* labels, const NarrowTop<T>* top) {
  const int L = net.layers();  // >= 2: there is always a hidden layer
  const bool narrow = top != nullptr && top->active();
  const T keep = T(1) - eps;
  const T pull = T(2) * eps * beta;  // output nudge: -eps * d(beta C)/dh_L = 2 eps beta (y - h_L)
  for (int t = 0; t < steps; ++t) {
    for (int k = 1; k <= L; ++k) {
      const int n = net.sizes[k];
      const std::size_t m = std::size_t(rows) * n;
      // d: [rows x n], the drive b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T. For layer 1 the
      // clamped part b_1 + x W_1 is not copied in: the blend below reads it from drive1.
      T* d = nxt.h[k].data();
      if (k > 1) {
        broadcast_rows(net.b[k], rows, d);
        if (narrow && k == L) {
          narrow_up(rows, net.sizes[k - 1], n, cur.h[k - 1].data(), top->padded.data(), d);
        } else {
          gemm(Trans::No, Trans::No, rows, n, net.sizes[k - 1], T(1), cur.h[k - 1].data(), net.sizes[k - 1],
               net.W[k].data(), n, T(1), d, n);
        }
      }
      const T* h = cur.h[k].data();
      if (k < L) {
        if (narrow && k + 1 == L) {
          // Top-down product, the clamped drive (layer 1), blend and clip in one pass per row.
          narrow_down_blend(rows, n, net.sizes[L], cur.h[L].data(), top->wt.data(), k == 1 ? drive1 : nullptr, h,
                            keep, eps, d);
          continue;
        } else {
          gemm(Trans::No, Trans::Yes, rows, n, net.sizes[k + 1], T(1), cur.h[k + 1].data(), net.sizes[k + 1],
               net.W[k + 1].data(), net.sizes[k + 1], k > 1 ? T(1) : T(0), d, n);
        }
      }
      // One pass: blend with the old state, nudge the output, clip.
      if (k == L && beta != T(0)) {
        for (int i = 0; i < rows; ++i) {
          for (int j = 0; j < n; ++j) {
            const std::size_t ij = std::size_t(i) * n + j;
            const T y = labels[i] == j ? T(1) : T(0);
            const T v = keep * h[ij] + eps * d[ij] + pull * (y - h[ij]);
            d[ij] = std::min(std::max(v, T(0)), T(1));
          }
        }
      } else {
        blend(d, h, d, k == 1 ? drive1 : nullptr, keep, eps, m);
      }
    }
    std::swap(cur.h, nxt.h);
  }
}

template <typename T>
StateStats state_stats(const NetworkT<T>& net, const SparseInput<T>& x, int first, const T* drive1,
                       const LayerStates<T>& s, int rows, const std::uint8_t* labels, T* scratch,
                       const NarrowTop<T>* top) {
  const int L = net.layers();
  const bool narrow = top != nullptr && top->active();
  StateStats st;
  st.count = rows;
  // Layers 2..L: 1/2 |h_k|^2 - h_k . (b_k + h_{k-1} W_k).
  for (int k = 2; k <= L; ++k) {
    const int n = net.sizes[k];
    broadcast_rows(net.b[k], rows, scratch);
    if (narrow && k == L) {
      narrow_up(rows, net.sizes[k - 1], n, s.h[k - 1].data(), top->padded.data(), scratch);
    } else {
      gemm(Trans::No, Trans::No, rows, n, net.sizes[k - 1], T(1), s.h[k - 1].data(), net.sizes[k - 1],
           net.W[k].data(), n, T(1), scratch, n);
    }
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
                    float, float, const std::uint8_t*, const NarrowTop<float>*);
template void relax(const NetworkT<double>&, const double*, LayerStates<double>&, LayerStates<double>&, int,
                    int, double, double, const std::uint8_t*, const NarrowTop<double>*);
template StateStats state_stats(const NetworkT<float>&, const SparseInput<float>&, int, const float*,
                                const LayerStates<float>&, int, const std::uint8_t*, float*, const NarrowTop<float>*);
template StateStats state_stats(const NetworkT<double>&, const SparseInput<double>&, int, const double*,
                                const LayerStates<double>&, int, const std::uint8_t*, double*,
                                const NarrowTop<double>*);

}  // namespace eqprop
