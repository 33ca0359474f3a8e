// The architecture of a layered network as a list of layer entries, input to output, for
// convolutional EP (Laborieux et al. 2021) as well as the dense nets of the paper:
//   conv:C:K[:pP][:pool2]   C channels, K x K kernel, stride 1, zero padding P (default 0),
//                           then a 2x2 max-pool of stride 2 (PyTorch's floor on odd sizes)
//   dense:N                 N units, fully connected to the layer below (flattened C x H x W)
// Conv entries come first; the output layer (dense, one unit per class) is not an entry: it
// comes from the data, as with `hidden`. `hidden = 500 500` is `layers = dense:500 dense:500`.
#pragma once
#include <string>
#include <vector>

#include "eqprop/data_facts.hpp"

namespace eqprop {

enum class LayerType { Dense, Conv };

struct LayerSpec {
  LayerType type = LayerType::Dense;
  int size = 0;     // units (dense) or channels (conv)
  int kernel = 0;   // conv: K of the K x K kernel
  int padding = 0;  // conv: zero padding on each side
  int pool = 1;     // conv: 2 for a 2x2 max-pool of stride 2 after the convolution, 1 for none
  bool operator==(const LayerSpec& o) const {
    return type == o.type && size == o.size && kernel == o.kernel && padding == o.padding && pool == o.pool;
  }
};

// The shape of a layer's states: C x H x W (a dense layer is N x 1 x 1).
struct Shape {
  int c = 0, h = 1, w = 1;
  long long size() const { return static_cast<long long>(c) * h * w; }
  bool operator==(const Shape& o) const { return c == o.c && h == o.h && w == o.w; }
};

// Parses the entries (words separated by spaces). Throws ConfigError naming the entry and what
// is wrong: an unknown kind, a missing or non-positive number, a conv after a dense layer.
std::vector<LayerSpec> parse_layers(const std::string& text);
// The text parse_layers reads back to the same entries.
std::string format_layers(const std::vector<LayerSpec>& layers);
// The entries of dense hidden layers of these sizes.
std::vector<LayerSpec> dense_layers(const std::vector<int>& hidden);
// The shapes of the input (from facts), of every entry's states, and of the output (classes x
// 1 x 1): size layers.size() + 2. Throws ConfigError naming the entry whose kernel does not fit
// its input, whose pool leaves nothing, or whose state count is beyond 2^31.
std::vector<Shape> layer_shapes(const std::vector<LayerSpec>& layers, const DataFacts& facts);
// The inputs each unit of entry s sees from a layer of shape `below` (C K K, or all of it), and
// the weights of W: fan_in x s.size (C_out x C_in x K x K, or n_below x n).
inline long long fan_in(const LayerSpec& s, const Shape& below) {
  return s.type == LayerType::Conv ? static_cast<long long>(below.c) * s.kernel * s.kernel : below.size();
}
inline long long weight_count(const LayerSpec& s, const Shape& below) { return fan_in(s, below) * s.size; }
// The output layer's entry: dense, one unit per class (it is not one of the entries).
inline LayerSpec output_entry(const DataFacts& facts) { return LayerSpec{LayerType::Dense, facts.classes, 0, 0, 1}; }
// The spatial size of a conv entry's output before its pool: H + 2P - K + 1.
inline int conv_out(int in, const LayerSpec& s) { return in + 2 * s.padding - s.kernel + 1; }

}  // namespace eqprop
