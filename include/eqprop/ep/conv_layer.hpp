// The conv layer kind (Laborieux et al. 2021): f_k(h_{k-1}) = P(W_k * h_{k-1} + b_k), a
// convolution of stride 1 with zero padding, then (pool2) a 2x2 max-pool of stride 2. Its
// top-down part is the transposed convolution of h_k put back at the positions the pool chose
// from the current h_{k-1}. kernels/conv.hpp does the products (im2col + gemm);
// ep/conv_reference.hpp is the same in plain loops.
#pragma once
#include <vector>
#include "eqprop/kernels/conv.hpp"
#include "eqprop/ep/layer_kind.hpp"

namespace eqprop {

template <typename T>
class ConvLayer : public LayerKind<T> {
 public:
  // skinny: the relaxation's products by the skinny loops (float, where the CPU has them);
  // the readable reference layers keep sgemm.
  ConvLayer(const NetworkT<T>& net, int k, bool skinny = false);
  std::string name() const override { return "conv"; }
  void refresh(const NetworkT<T>& net) override;
  void reserve(const NetworkT<T>& net, int rows, KindScratch<T>& s) const override;
  void bias(const NetworkT<T>& net, int rows, T* d) const override;
  void up(const NetworkT<T>& net, int rows, const T* below, T* d, KindScratch<T>& s) const override;
  void choose(const NetworkT<T>& net, int rows, const T* below, KindScratch<T>& s) const override;
  void down_blend(const NetworkT<T>& net, int rows, const T* above, const T* drive, const T* h, T keep, T eps,
                  T* d, KindScratch<T>& s) const override;
  // Rows are output channels: W_k's [m x C_{k-1} K K] block of channels r0..r0+m; the pool's
  // choices of each phase are made again from its own states.
  void update_rows(const NetworkT<T>& net, int r0, int m, int B, T c, T keep, const T* a_below, const T* a,
                   const T* b_below, const T* b, T* dest, UpdateScratch<T>& s) const override;
  const ConvGeometry& geometry() const { return g_; }

 private:
  bool skinny_for() const;
  int k_;
  ConvGeometry g_;
  bool skinny_;
  std::vector<T> wt_;  // W_k^T [C_{k-1} K K x C_k] for the skinny top-down product (k >= 2), else empty
};

}  // namespace eqprop
