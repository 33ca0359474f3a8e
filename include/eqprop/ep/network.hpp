// Network: the layer sizes, weights and biases of the layered Hopfield net.
// Templated on the scalar so tests can run the very same code in double; training is float.
#pragma once
#include <vector>

#include "eqprop/architecture.hpp"
#include "eqprop/rng.hpp"

namespace eqprop {

template <typename T>
struct NetworkT {
  std::vector<int> sizes;          // n_0 (input) .. n_L (output)
  std::vector<std::vector<T>> W;   // W[k], k = 1..L: [n_{k-1} x n_k], row-major; W[0] is empty
  std::vector<std::vector<T>> b;   // b[k], k = 0..L: [n_k]; b[0] (input bias) is never trained
  // Convolutional nets (architecture.hpp): specs[k], k = 1..L, the kind of W_k, and shapes[k],
  // k = 0..L, the C x H x W of layer k's states (n_k = C H W). A conv W_k is
  // [C_k x C_{k-1} x K x K] and its b_k [C_k]. Both empty: every layer dense.
  std::vector<LayerSpec> specs;
  std::vector<Shape> shapes;
  // The cross-entropy readout (ep/readout.hpp): layer L is softmax(h_{L-1} W_L + b_L), not in
  // the dynamics, and its state holds beta (onehot - softmax). Not stored: the Trainer sets it
  // from the configuration.
  bool softmax_readout = false;

  int layers() const { return static_cast<int>(sizes.size()) - 1; }  // L
  bool conv(int k) const { return !specs.empty() && specs[k].type == LayerType::Conv; }
  Shape shape(int k) const { return shapes.empty() ? Shape{sizes[k], 1, 1} : shapes[k]; }
  // The dimensions of W_k: {n_{k-1}, n_k}, or {C_k, C_{k-1}, K, K} for a conv layer.
  std::vector<std::size_t> weight_dims(int k) const {
    if (!conv(k)) return {std::size_t(sizes[k - 1]), std::size_t(sizes[k])};
    const std::size_t K = std::size_t(specs[k].kernel);
    return {std::size_t(specs[k].size), std::size_t(shape(k - 1).c), K, K};
  }
};
using Network = NetworkT<float>;

// Glorot-uniform weights U(+-sqrt(6/(n_in+n_out))) drawn layer by layer, row by row from
// rng; zero biases (as the reference code).
template <typename T>
NetworkT<T> glorot_network(const std::vector<int>& sizes, Rng& rng);

// A net of the given entries (architecture.hpp) on inputs of facts' shape, with PyTorch's
// default initialisation, as convolutional EP uses it (Laborieux et al. 2021): every W_k and
// b_k uniform in +-1/sqrt(fan_in) (fan_in: C_{k-1} K K or n_{k-1}), drawn layer by layer from
// rng. b_0 is zero (the input is clamped).
template <typename T>
NetworkT<T> layered_network(const std::vector<LayerSpec>& entries, const DataFacts& facts, Rng& rng);

// net.specs and net.shapes for these entries on inputs of facts' shape when any is a conv
// layer, else cleared (a dense net keeps the plain layout). For a net made or loaded elsewhere.
template <typename T>
void set_architecture(NetworkT<T>& net, const std::vector<LayerSpec>& entries, const DataFacts& facts);

// Frobenius norm of W[k] and of b[k] together: used for the relative weight change.
template <typename T>
double layer_norm(const NetworkT<T>& net, int k);

// Index of the first layer (1..L) whose weights or bias hold a NaN or infinity, or 0.
template <typename T>
int first_nonfinite_layer(const NetworkT<T>& net);

}  // namespace eqprop
