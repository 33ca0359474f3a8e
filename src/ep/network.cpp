#include "eqprop/ep/network.hpp"

#include <cmath>

namespace eqprop {

template <typename T>
NetworkT<T> glorot_network(const std::vector<int>& sizes, Rng& rng) {
  NetworkT<T> net;
  net.sizes = sizes;
  const int L = net.layers();
  net.W.resize(L + 1);
  net.b.resize(L + 1);
  for (int k = 0; k <= L; ++k) net.b[k].assign(sizes[k], T(0));
  for (int k = 1; k <= L; ++k) {
    const double limit = std::sqrt(6.0 / (sizes[k - 1] + sizes[k]));
    auto& w = net.W[k];
    w.resize(std::size_t(sizes[k - 1]) * sizes[k]);
    for (auto& v : w) v = static_cast<T>((2.0 * rng.uniform01_double() - 1.0) * limit);
  }
  return net;
}

template <typename T>
void set_architecture(NetworkT<T>& net, const std::vector<LayerSpec>& entries, const DataFacts& facts) {
  net.specs.clear();
  net.shapes.clear();
  bool conv = false;
  for (const LayerSpec& s : entries) conv = conv || s.type == LayerType::Conv;
  if (!conv) return;
  net.shapes = layer_shapes(entries, facts);
  net.specs.push_back(LayerSpec{});
  net.specs.insert(net.specs.end(), entries.begin(), entries.end());
  net.specs.push_back(output_entry(facts));
}

template <typename T>
NetworkT<T> layered_network(const std::vector<LayerSpec>& entries, const DataFacts& facts, Rng& rng) {
  NetworkT<T> net;
  set_architecture(net, entries, facts);
  if (net.specs.empty()) {  // dense entries only: the same layout, the same initialisation rule
    net.shapes = layer_shapes(entries, facts);
    net.specs.push_back(LayerSpec{});
    net.specs.insert(net.specs.end(), entries.begin(), entries.end());
    net.specs.push_back(output_entry(facts));
  }
  for (const Shape& s : net.shapes) net.sizes.push_back(static_cast<int>(s.size()));
  const int L = net.layers();
  net.W.resize(L + 1);
  net.b.resize(L + 1);
  net.b[0].assign(net.sizes[0], T(0));
  for (int k = 1; k <= L; ++k) {
    const LayerSpec& s = net.specs[k];
    const double limit = 1.0 / std::sqrt(static_cast<double>(fan_in(s, net.shapes[k - 1])));
    net.W[k].resize(static_cast<std::size_t>(weight_count(s, net.shapes[k - 1])));
    net.b[k].resize(static_cast<std::size_t>(s.size));
    for (auto& v : net.W[k]) v = static_cast<T>((2.0 * rng.uniform01_double() - 1.0) * limit);
    for (auto& v : net.b[k]) v = static_cast<T>((2.0 * rng.uniform01_double() - 1.0) * limit);
  }
  return net;
}

template <typename T>
double layer_norm(const NetworkT<T>& net, int k) {
  double s = 0;
  for (T v : net.W[k]) s += double(v) * v;
  for (T v : net.b[k]) s += double(v) * v;
  return std::sqrt(s);
}

template <typename T>
int first_nonfinite_layer(const NetworkT<T>& net) {
  for (int k = 1; k <= net.layers(); ++k) {
    for (T v : net.W[k])
      if (!std::isfinite(v)) return k;
    for (T v : net.b[k])
      if (!std::isfinite(v)) return k;
  }
  return 0;
}

template NetworkT<float> glorot_network<float>(const std::vector<int>&, Rng&);
template NetworkT<double> glorot_network<double>(const std::vector<int>&, Rng&);
template void set_architecture(NetworkT<float>&, const std::vector<LayerSpec>&, const DataFacts&);
template void set_architecture(NetworkT<double>&, const std::vector<LayerSpec>&, const DataFacts&);
template NetworkT<float> layered_network<float>(const std::vector<LayerSpec>&, const DataFacts&, Rng&);
template NetworkT<double> layered_network<double>(const std::vector<LayerSpec>&, const DataFacts&, Rng&);
template double layer_norm(const NetworkT<float>&, int);
template double layer_norm(const NetworkT<double>&, int);
template int first_nonfinite_layer(const NetworkT<float>&);
template int first_nonfinite_layer(const NetworkT<double>&);

}  // namespace eqprop
