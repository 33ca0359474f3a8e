// The registry of layer kinds and the Layers of a network. A new kind: its file pair, and one
// row in kRegistry below.
#include <stdexcept>

#include "eqprop/ep/conv_layer.hpp"
#include "eqprop/ep/dense_layer.hpp"
#include "eqprop/ep/layer_kind.hpp"

namespace eqprop {
namespace {

template <typename T>
using Factory = std::unique_ptr<LayerKind<T>> (*)(const NetworkT<T>& net, int k, bool fast);

template <typename T>
struct Registration {
  const char* name;
  Factory<T> make;
};

template <typename T>
std::unique_ptr<LayerKind<T>> make_dense(const NetworkT<T>& net, int k, bool fast) {
  // Only the output layer's products are narrow enough for the narrow loops; the others take
  // the skinny loops where a chunk has few rows.
  return std::make_unique<DenseLayer<T>>(k, fast && k == net.layers(), fast);
}

template <typename T>
std::unique_ptr<LayerKind<T>> make_conv(const NetworkT<T>& net, int k, bool fast) {
  return std::make_unique<ConvLayer<T>>(net, k, fast);
}

template <typename T>
const Registration<T> kRegistry[] = {
    {"dense", make_dense<T>},
    {"conv", make_conv<T>},
};

}  // namespace

template <typename T>
std::unique_ptr<LayerKind<T>> make_layer_kind(const std::string& name, const NetworkT<T>& net, int k, bool fast) {
  for (const auto& r : kRegistry<T>)
    if (name == r.name) return r.make(net, k, fast);
  throw std::invalid_argument("unknown layer kind '" + name + "'");
}

template <typename T>
Layers<T>::Layers(const NetworkT<T>& net, bool fast) : kinds_(net.sizes.size()) {
  for (int k = 1; k <= net.layers(); ++k) kinds_[k] = make_layer_kind<T>(net.conv(k) ? "conv" : "dense", net, k, fast);
  refresh(net);
}

template <typename T>
std::vector<KindScratch<T>> Layers<T>::scratch(const NetworkT<T>& net, int rows) const {
  std::vector<KindScratch<T>> s(kinds_.size());
  for (std::size_t k = 1; k < kinds_.size(); ++k) kinds_[k]->reserve(net, rows, s[k]);
  return s;
}


template <typename T>
void Layers<T>::refresh(const NetworkT<T>& net) {
  for (int k = 1; k <= net.layers(); ++k) kinds_[k]->refresh(net);
}

template class Layers<float>;
template class Layers<double>;
template std::unique_ptr<LayerKind<float>> make_layer_kind(const std::string&, const NetworkT<float>&, int, bool);
template std::unique_ptr<LayerKind<double>> make_layer_kind(const std::string&, const NetworkT<double>&, int, bool);

}  // namespace eqprop
