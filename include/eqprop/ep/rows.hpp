// Small row helpers shared by the dynamics and the input layer.
#pragma once
#include <cstddef>
#include <cstring>
#include <vector>

namespace eqprop {

// out[i][j] = bias[j] for `rows` rows: the starting value of a drive that gemm accumulates into.
template <typename T>
void broadcast_rows(const std::vector<T>& bias, int rows, T* out) {
  const std::size_t n = bias.size();
  for (int i = 0; i < rows; ++i) std::memcpy(out + i * n, bias.data(), n * sizeof(T));
}

}  // namespace eqprop
