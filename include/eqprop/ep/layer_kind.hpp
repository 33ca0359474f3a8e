// LayerKind: how layer k (k >= 1) is connected to layer k-1 through its weights W_k. The
// dynamics, the energy figures and the EP update reach W_k only through this interface, so
// a new kind of layer (convolution, pooling) is a new file pair that implements it and one
// registration in layer_kinds.cpp; nothing in the engine changes.
//
// Layer 1's products with the clamped input are input_layer.hpp's (computed once per
// relaxation, over the nonzero inputs); a kind serves every other product of its W_k.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "eqprop/ep/network.hpp"

namespace eqprop {

template <typename T>
class LayerKind {
 public:
  virtual ~LayerKind() = default;
  virtual std::string name() const = 0;
  // Called after every change of W_k: copies that the kind's kernels read are made again.
  virtual void refresh(const NetworkT<T>& net) { (void)net; }
  // Bottom-up: d [rows x n_k] += h_{k-1} W_k, with below [rows x n_{k-1}].
  virtual void up(const NetworkT<T>& net, int rows, const T* below, T* d) const = 0;
  // The synchronous update of layer k-1 with its top-down part h_k W_k^T (above: [rows x n_k]):
  //   d = clip(keep h + eps (base + above W_k^T), 0, 1)   ([rows x n_{k-1}] each)
  // where base is `drive` if not null (layer 1's clamped drive), else d's own content (b_{k-1}
  // + h_{k-2} W_{k-1}, already summed there).
  virtual void down_blend(const NetworkT<T>& net, int rows, const T* above, const T* drive, const T* h, T keep,
                          T eps, T* d) const = 0;
  // The EP update of rows [r0, r0 + m) of W_k from B samples' states of both phases:
  //   W = keep W + c (a_{k-1}^T a_k - b_{k-1}^T b_k)   (a_below: [B x n_{k-1}], a: [B x n_k], ...)
  virtual void update_rows(NetworkT<T>& net, int r0, int m, int B, T c, T keep, const T* a_below, const T* a,
                           const T* b_below, const T* b) const = 0;
};

// The kinds of a network's layers, [1..L] (index 0 unused), made by the registry.
template <typename T>
class Layers {
 public:
  // fast = false: the plain products only (no copies, no refresh needed); the tests' baseline.
  explicit Layers(const NetworkT<T>& net, bool fast = true);
  void refresh(const NetworkT<T>& net);
  const LayerKind<T>& operator[](int k) const { return *kinds_[k]; }

 private:
  std::vector<std::unique_ptr<LayerKind<T>>> kinds_;
};

// The registry: a kind by name for layer k of net ("dense" is every layer today). Throws
// std::invalid_argument naming an unknown kind.
template <typename T>
std::unique_ptr<LayerKind<T>> make_layer_kind(const std::string& name, const NetworkT<T>& net, int k, bool fast);

}  // namespace eqprop
