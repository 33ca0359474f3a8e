// Network: the layer sizes, weights and biases of the layered Hopfield net.
// Templated on the scalar so tests can run the very same code in double; training is float.
#pragma once
#include <vector>

#include "eqprop/rng.hpp"

namespace eqprop {

template <typename T>
struct NetworkT {
  std::vector<int> sizes;          // n_0 (input) .. n_L (output)
  std::vector<std::vector<T>> W;   // W[k], k = 1..L: [n_{k-1} x n_k], row-major; W[0] is empty
  std::vector<std::vector<T>> b;   // b[k], k = 0..L: [n_k]; b[0] (input bias) is never trained

  int layers() const { return static_cast<int>(sizes.size()) - 1; }  // L
};
using Network = NetworkT<float>;

// Glorot-uniform weights U(+-sqrt(6/(n_in+n_out))) drawn layer by layer, row by row from
// rng; zero biases (as the reference code).
template <typename T>
NetworkT<T> glorot_network(const std::vector<int>& sizes, Rng& rng);

// Frobenius norm of W[k] and of b[k] together: used for the relative weight change.
template <typename T>
double layer_norm(const NetworkT<T>& net, int k);

// Index of the first layer (1..L) whose weights or bias hold a NaN or infinity, or 0.
template <typename T>
int first_nonfinite_layer(const NetworkT<T>& net);

}  // namespace eqprop
