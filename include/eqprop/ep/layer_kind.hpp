// LayerKind: how layer k (k >= 1) is connected to layer k-1 through its weights W_k. The
// dynamics, the energy figures and the EP update reach W_k only through this interface, so
// a new kind of layer (convolution, pooling) is a new file pair that implements it and one
// registration in layer_kinds.cpp; nothing in the engine changes.
//
// Layer 1's products with the clamped input are input_layer.hpp's (computed once per
// relaxation, over the nonzero inputs); a kind serves every other product of its W_k.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eqprop/ep/network.hpp"
#include "eqprop/kernels/sparse_input.hpp"

namespace eqprop {

// What a kind keeps for one chunk between its calls within a step: a pooled convolution's
// choices (which input of each 2x2 window was the largest), made by up() or choose() from the
// layer below's current states and read by down_blend(). Plus the buffers its products need.
// Each chunk task owns one per layer (Layers::scratch), so kinds stay const and shared.
template <typename T>
struct KindScratch {
  std::vector<std::int32_t> arg;  // [rows x n_k]: the index of each pooled unit's input in z
  std::vector<T> z;               // [rows x conv_size]: the convolution before the pool
  std::vector<T> col;             // im2col patches of one example
};

// The buffers of one update task: a conv kind's choices, its channels' states and output
// gradients, and a conv layer 1's input made dense. Each thread of the reducer owns one
// (engine Workspace); resize keeps capacity, so after the first minibatch the update
// allocates nothing.
template <typename T>
struct UpdateScratch {
  std::vector<T> z, top, col, ga, gb, dense_input;
  std::vector<std::int32_t> arg;
  UnitLists<T> units;  // a dense layer 1's entries by input unit, for its rows of W_1
};

template <typename T>
class LayerKind {
 public:
  virtual ~LayerKind() = default;
  virtual std::string name() const = 0;
  // Called after every change of W_k: copies that the kind's kernels read are made again.
  virtual void refresh(const NetworkT<T>& net) { (void)net; }
  // The buffers of `s` sized for chunks of up to `rows` examples.
  virtual void reserve(const NetworkT<T>& net, int rows, KindScratch<T>& s) const {
    (void)net, (void)rows, (void)s;
  }
  // d [rows x n_k] := b_k broadcast (dense: every row; conv: every position of each channel,
  // since P(z + b) = P(z) + b for a bias per channel).
  virtual void bias(const NetworkT<T>& net, int rows, T* d) const = 0;
  // Bottom-up: d [rows x n_k] += f_k(h_{k-1}) without the bias (dense: h_{k-1} W_k; conv: the
  // pooled convolution, whose choices go to s for the down_blend of the same step).
  virtual void up(const NetworkT<T>& net, int rows, const T* below, T* d, KindScratch<T>& s) const = 0;
  // The choices up() would make from below, without the product (conv only; dense: nothing).
  virtual void choose(const NetworkT<T>& net, int rows, const T* below, KindScratch<T>& s) const {
    (void)net, (void)rows, (void)below, (void)s;
  }
  // The synchronous update of layer k-1 with its top-down part h_k W_k^T (above: [rows x n_k]):
  //   d = clip(keep h + eps (base + above W_k^T), 0, 1)   ([rows x n_{k-1}] each)
  // where base is `drive` if not null (layer 1's clamped drive), else d's own content (b_{k-1}
  // + h_{k-2} W_{k-1}, already summed there).
  // A conv kind reads the choices made from the current h_{k-1} (up or choose) in s.
  virtual void down_blend(const NetworkT<T>& net, int rows, const T* above, const T* drive, const T* h, T keep,
                          T eps, T* d, KindScratch<T>& s) const = 0;
  // The EP update of rows [r0, r0 + m) of W_k from B samples' states of both phases, into
  // dest (those rows of W_k itself, or of a momentum velocity shaped as W_k):
  //   D = keep D + c (a_{k-1}^T a_k - b_{k-1}^T b_k)   (a_below: [B x n_{k-1}], a: [B x n_k], ...)
  // (dense: rows are input units; conv: output channels, D = keep D + c (dPhi/dW(a) - dPhi/dW(b)),
  // the pool's choices made with net's W_k before dest changes).
  virtual void update_rows(const NetworkT<T>& net, int r0, int m, int B, T c, T keep, const T* a_below, const T* a,
                           const T* b_below, const T* b, T* dest, UpdateScratch<T>& s) const = 0;
};

// The kinds of a network's layers, [1..L] (index 0 unused), made by the registry.
template <typename T>
class Layers {
 public:
  // fast = false: the plain products only (no copies, no refresh needed); the tests' baseline.
  explicit Layers(const NetworkT<T>& net, bool fast = true);
  void refresh(const NetworkT<T>& net);
  // Layer k's copies only (they depend on W_k alone): tasks may refresh different layers at once.
  void refresh_layer(const NetworkT<T>& net, int k) { kinds_[k]->refresh(net); }
  const LayerKind<T>& operator[](int k) const { return *kinds_[k]; }
  // One KindScratch per layer ([0] unused), sized for chunks of up to `rows` examples.
  std::vector<KindScratch<T>> scratch(const NetworkT<T>& net, int rows) const;

 private:
  std::vector<std::unique_ptr<LayerKind<T>>> kinds_;
};

// The registry: a kind by name for layer k of net ("dense" or "conv"). Throws
// std::invalid_argument naming an unknown kind.
template <typename T>
std::unique_ptr<LayerKind<T>> make_layer_kind(const std::string& name, const NetworkT<T>& net, int k, bool fast);

}  // namespace eqprop
