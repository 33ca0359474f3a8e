#include "eqprop/ep/conv_layer.hpp"

#include <algorithm>
#include <tuple>
#include <type_traits>
#include <vector>

#include "eqprop/kernels/blend.hpp"
#include "eqprop/kernels/skinny_gemm.hpp"

namespace eqprop {

template <typename T>
ConvLayer<T>::ConvLayer(const NetworkT<T>& net, int k, bool skinny)
    : k_(k), g_(conv_geometry(net.shape(k - 1), net.specs[k])), skinny_(skinny) {}

template <typename T>
bool ConvLayer<T>::skinny_for() const {
  if constexpr (std::is_same_v<T, float>) return skinny_ && skinny_available(1);
  return false;
}

template <typename T>
void ConvLayer<T>::refresh(const NetworkT<T>& net) {
  // Layer 1's top-down product never runs (the input is clamped).
  if constexpr (std::is_same_v<T, float>) {
    if (skinny_for() && k_ >= 2) {
      wt_.resize(net.W[k_].size());
      transpose(g_.co, static_cast<int>(g_.patch()), net.W[k_].data(), wt_.data());
    }
  }
}

template <typename T>
void ConvLayer<T>::reserve(const NetworkT<T>&, int rows, KindScratch<T>& s) const {
  s.z.resize(std::size_t(rows) * g_.conv_size());
  s.col.resize(g_.patch() * g_.positions());
  s.arg.resize(g_.pool == 2 ? std::size_t(rows) * g_.out_size() : 0);
}

template <typename T>
void ConvLayer<T>::bias(const NetworkT<T>& net, int rows, T* d) const {
  const std::size_t plane = g_.out_size() / g_.co;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < g_.co; ++c) {
      T* p = d + std::size_t(r) * g_.out_size() + c * plane;
      std::fill(p, p + plane, net.b[k_][c]);
    }
}

template <typename T>
void ConvLayer<T>::up(const NetworkT<T>& net, int rows, const T* below, T* d, KindScratch<T>& s) const {
  conv_forward(g_, net.W[k_].data(), static_cast<const T*>(nullptr), rows, below, s.z.data(), s.col.data(),
               skinny_for());
  if (g_.pool == 2) {
    max_pool2(rows, g_.co, g_.ho, g_.wo, s.z.data(), d, s.arg.data(), /*add=*/true);
  } else {
    for (std::size_t i = 0; i < std::size_t(rows) * g_.conv_size(); ++i) d[i] += s.z[i];
  }
}

template <typename T>
void ConvLayer<T>::choose(const NetworkT<T>& net, int rows, const T* below, KindScratch<T>& s) const {
  if (g_.pool != 2) return;
  conv_forward(g_, net.W[k_].data(), static_cast<const T*>(nullptr), rows, below, s.z.data(), s.col.data(),
               skinny_for());
  max_pool2(rows, g_.co, g_.ho, g_.wo, s.z.data(), static_cast<T*>(nullptr), s.arg.data());
}

template <typename T>
void ConvLayer<T>::down_blend(const NetworkT<T>& net, int rows, const T* above, const T* drive, const T* h, T keep,
                              T eps, T* d, KindScratch<T>& s) const {
  // The output gradient of the convolution: h_k itself, or h_k at the pool's choices. s.z is
  // free again once up() or choose() has made the choices, so it holds it.
  const T* gz = above;
  if (g_.pool == 2) {
    unpool(rows, g_.out_size(), g_.conv_size(), above, s.arg.data(), s.z.data());
    gz = s.z.data();
  }
  const std::size_t n_below = g_.in_size();
  if (drive) std::fill(d, d + std::size_t(rows) * n_below, T(0));
  conv_transpose_add(g_, net.W[k_].data(), rows, gz, d, s.col.data(), wt_.empty() ? nullptr : wt_.data());
  blend_rows(d, h, d, drive, keep, eps, std::size_t(rows) * n_below);
}

template <typename T>
void ConvLayer<T>::update_rows(const NetworkT<T>& net, int r0, int m, int B, T c, T keep, const T* a_below,
                               const T* a, const T* b_below, const T* b, T* dest, UpdateScratch<T>& s) const {
  // Channels r0..r0+m alone: a convolution with m output channels and W_k's rows of them.
  ConvGeometry g = g_;
  g.co = m;
  const T* W = net.W[k_].data() + std::size_t(r0) * g_.patch();
  const std::size_t plane = g_.out_size() / g_.co;  // pooled positions per channel
  std::vector<T>&z = s.z, &top = s.top, &col = s.col, &ga = s.ga, &gb = s.gb;
  std::vector<std::int32_t>& arg = s.arg;
  z.resize(std::size_t(B) * g.conv_size());
  top.resize(std::size_t(B) * m * plane);
  col.resize(g.patch() * g.positions());
  ga.resize(z.size());  // each phase's output gradient of the convolution
  gb.resize(z.size());
  arg.resize(top.size());
  // Both phases' choices from the weights before the update.
  for (const auto& [below, states, grad] : {std::make_tuple(a_below, a, &ga), std::make_tuple(b_below, b, &gb)}) {
    for (int r = 0; r < B; ++r)  // this block's channels of every example
      std::copy_n(states + std::size_t(r) * g_.out_size() + std::size_t(r0) * plane, m * plane,
                  top.begin() + std::size_t(r) * m * plane);
    if (g_.pool == 2) {
      // The same products as the relaxation's (a block of channels gets the whole layer's
      // bits from the skinny loops), so the pool chooses as the phase did.
      conv_forward(g, static_cast<const T*>(W), static_cast<const T*>(nullptr), B, below, z.data(), col.data(),
                   skinny_for());
      max_pool2(B, m, g.ho, g.wo, z.data(), static_cast<T*>(nullptr), arg.data());
      unpool(B, std::size_t(m) * plane, g.conv_size(), top.data(), arg.data(), grad->data());
    } else {
      *grad = top;
    }
  }
  if (keep != T(1))
    for (std::size_t i = 0; i < std::size_t(m) * g_.patch(); ++i) dest[i] *= keep;
  conv_weight_grad_add(g, B, a_below, ga.data(), c, dest, static_cast<T*>(nullptr), col.data());
  conv_weight_grad_add(g, B, b_below, gb.data(), -c, dest, static_cast<T*>(nullptr), col.data());
}

template class ConvLayer<float>;
template class ConvLayer<double>;

}  // namespace eqprop
