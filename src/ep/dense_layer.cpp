#include "eqprop/ep/dense_layer.hpp"

#include <type_traits>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/blend.hpp"
#include "eqprop/kernels/skinny_gemm.hpp"
#include "eqprop/ep/rows.hpp"

namespace eqprop {

template <typename T>
bool DenseLayer<T>::skinny_for(int rows) const {
  if constexpr (std::is_same_v<T, float>) return skinny_ && !narrow_active() && skinny_available(rows);
  return false;
}

template <typename T>
void DenseLayer<T>::refresh(const NetworkT<T>& net) {
  if (narrow_) top_.refresh(net.W[k_].data(), net.sizes[k_ - 1], net.sizes[k_]);
  // The W_k^T copy serves the top-down product, which layer 1 never runs (the input is clamped).
  // Where the skinny loops read B packed (skinny_packs(): AVX2 CPUs), W_k and W_k^T in panels
  // instead; layer 1's up product is the clamped drive, computed elsewhere, so only k >= 2.
  if constexpr (std::is_same_v<T, float>) {
    if (k_ >= 2 && skinny_for(1)) {
      const int n_below = net.sizes[k_ - 1], n = net.sizes[k_];
      wt_.resize(net.W[k_].size());
      transpose(n_below, n, net.W[k_].data(), wt_.data());
      if (skinny_packs()) {
        packed_w_.resize(packed_floats(n_below, n));
        pack_panels(n_below, n, net.W[k_].data(), n, packed_w_.data());
        packed_wt_.resize(packed_floats(n, n_below));
        pack_panels(n, n_below, wt_.data(), n_below, packed_wt_.data());
      }
    }
  }
}

template <typename T>
void DenseLayer<T>::bias(const NetworkT<T>& net, int rows, T* d) const {
  broadcast_rows(net.b[k_], rows, d);
}

template <typename T>
void DenseLayer<T>::up(const NetworkT<T>& net, int rows, const T* below, T* d, KindScratch<T>&) const {
  const int n = net.sizes[k_], n_below = net.sizes[k_ - 1];
  if (narrow_active()) {
    narrow_up(rows, n_below, n, below, top_.padded.data(), d);
  } else if (skinny_for(rows)) {
    if constexpr (std::is_same_v<T, float>) {
      if (!packed_w_.empty()) {
        skinny_gemm_packed(rows, n, n_below, below, n_below, packed_w_.data(), d, n, true);
      } else {
        skinny_gemm(rows, n, n_below, below, n_below, net.W[k_].data(), n, d, n, true);
      }
    }
  } else {
    gemm(Trans::No, Trans::No, rows, n, n_below, T(1), below, n_below, net.W[k_].data(), n, T(1), d, n);
  }
}

template <typename T>
void DenseLayer<T>::down_blend(const NetworkT<T>& net, int rows, const T* above, const T* drive, const T* h, T keep,
                               T eps, T* d, KindScratch<T>&) const {
  const int n = net.sizes[k_], n_below = net.sizes[k_ - 1];
  if (narrow_active()) {
    // The top-down product, the base, blend and clip in one pass per row.
    narrow_down_blend(rows, n_below, n, above, top_.wt.data(), drive, h, keep, eps, d);
    return;
  }
  // With a drive the product starts from zero and the drive joins in the blend.
  if (skinny_for(rows) && !wt_.empty()) {
    if constexpr (std::is_same_v<T, float>) {
      if (!packed_wt_.empty()) {
        skinny_gemm_packed(rows, n_below, n, above, n, packed_wt_.data(), d, n_below, !drive);
      } else {
        skinny_gemm(rows, n_below, n, above, n, wt_.data(), n_below, d, n_below, !drive);
      }
    }
  } else {
    gemm(Trans::No, Trans::Yes, rows, n_below, n, T(1), above, n, net.W[k_].data(), n, drive ? T(0) : T(1), d,
         n_below);
  }
  blend_rows(d, h, d, drive, keep, eps, std::size_t(rows) * n_below);
}

template <typename T>
void DenseLayer<T>::update_rows(const NetworkT<T>& net, int r0, int m, int B, T c, T keep, const T* a_below,
                                const T* a, const T* b_below, const T* b, T* W, UpdateScratch<T>&) const {
  // Rows r0..r0+m of W ([m x n] of [n_below x n]) are columns r0..r0+m of the [B x n_below]
  // pre-synaptic states.
  const int n = net.sizes[k_], n_below = net.sizes[k_ - 1];
  gemm(Trans::Yes, Trans::No, m, n, B, c, a_below + r0, n_below, a, n, keep, W, n);  // keep == 1 without decay
  gemm(Trans::Yes, Trans::No, m, n, B, -c, b_below + r0, n_below, b, n, T(1), W, n);
}

template class DenseLayer<float>;
template class DenseLayer<double>;

}  // namespace eqprop
