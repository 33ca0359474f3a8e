#include "eqprop/ep/input_layer.hpp"

#include "eqprop/kernels/blas.hpp"
#include "eqprop/ep/conv_layer.hpp"
#include "eqprop/ep/rows.hpp"

namespace eqprop {

template <typename T>
void clamped_drive(const NetworkT<T>& net, const T* x, int rows, T* drive1, KindScratch<T>* scratch) {
  if (net.conv(1)) {  // P(W_1 * x + b_1)
    const ConvLayer<T> kind(net, 1);
    KindScratch<T> own;
    if (!scratch) kind.reserve(net, rows, own);
    kind.bias(net, rows, drive1);
    kind.up(net, rows, x, drive1, scratch ? *scratch : own);
    return;
  }
  const int n0 = net.sizes[0], n1 = net.sizes[1];
  broadcast_rows(net.b[1], rows, drive1);
  gemm(Trans::No, Trans::No, rows, n1, n0, T(1), x, n0, net.W[1].data(), n1, T(1), drive1, n1);
}

template <typename T>
void layer1_difference(const LayerStates<T>& a, const LayerStates<T>& b, int first, int rows, T* diff1) {
  const int n1 = a.size(1);
  const T* pa = a.row(1, first);
  const T* pb = b.row(1, first);
  T* out = diff1 + std::size_t(first) * n1;
  for (std::size_t ij = 0; ij < std::size_t(rows) * n1; ++ij) out[ij] = pa[ij] - pb[ij];
}

template void clamped_drive(const NetworkT<float>&, const float*, int, float*, KindScratch<float>*);
template void clamped_drive(const NetworkT<double>&, const double*, int, double*, KindScratch<double>*);
template void layer1_difference(const LayerStates<float>&, const LayerStates<float>&, int, int, float*);
template void layer1_difference(const LayerStates<double>&, const LayerStates<double>&, int, int, double*);

}  // namespace eqprop
