#include "eqprop/ep/readout.hpp"

#include <algorithm>
#include <cmath>

namespace eqprop {

template <typename T>
void softmax_nudge(int rows, int n, const T* logits, T beta, const Label* labels, T* out) {
  for (int i = 0; i < rows; ++i) {
    const T* z = logits + std::size_t(i) * n;
    T* o = out + std::size_t(i) * n;
    if (beta == T(0)) {  // a free phase: no nudge, and no exp to compute
      std::fill(o, o + n, T(0));
      continue;
    }
    // Shifted by the largest logit so no exp overflows; the sum in double.
    const T top = *std::max_element(z, z + n);
    double sum = 0;
    for (int j = 0; j < n; ++j) sum += std::exp(double(z[j]) - double(top));
    for (int j = 0; j < n; ++j) {
      const double p = std::exp(double(z[j]) - double(top)) / sum;
      o[j] = static_cast<T>(double(beta) * ((labels[i] == j ? 1.0 : 0.0) - p));
    }
  }
}

template <typename T>
double softmax_loss(int n, const T* logits, Label label) {
  const T top = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int j = 0; j < n; ++j) sum += std::exp(double(logits[j]) - double(top));
  return std::log(sum) - (double(logits[label]) - double(top));
}

template void softmax_nudge(int, int, const float*, float, const Label*, float*);
template void softmax_nudge(int, int, const double*, double, const Label*, double*);
template double softmax_loss(int, const float*, Label);
template double softmax_loss(int, const double*, Label);

}  // namespace eqprop
