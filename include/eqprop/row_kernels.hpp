// add_scaled_rows: the inner loop of the hand-written products (sparse input, narrow output
// layer). Header-only and inline so that each caller's clone (clones.hpp) compiles it for
// its own vector unit.
#pragma once
#include <cstddef>

#include "eqprop/clones.hpp"

namespace eqprop {

// out[j] += sum_e v[e] * rows_of[which[e]][j] for j < cols (rows_of is row-major with leading
// dimension ld), the terms added one after another in e order. Four rows per pass over out,
// so out is loaded and stored a quarter as often.
template <typename T>
EQPROP_KERNEL void add_scaled_rows(T* __restrict out, int cols, const T* rows_of, std::size_t ld, const int* which,
                            const T* v, int count) {
  int e = 0;
  for (; e + 4 <= count; e += 4) {
    const T* __restrict w0 = rows_of + which[e] * ld;
    const T* __restrict w1 = rows_of + which[e + 1] * ld;
    const T* __restrict w2 = rows_of + which[e + 2] * ld;
    const T* __restrict w3 = rows_of + which[e + 3] * ld;
    const T v0 = v[e], v1 = v[e + 1], v2 = v[e + 2], v3 = v[e + 3];
    for (int j = 0; j < cols; ++j) out[j] = out[j] + v0 * w0[j] + v1 * w1[j] + v2 * w2[j] + v3 * w3[j];
  }
  for (; e < count; ++e) {
    const T* __restrict w0 = rows_of + which[e] * ld;
    const T v0 = v[e];
    for (int j = 0; j < cols; ++j) out[j] = out[j] + v0 * w0[j];
  }
}

}  // namespace eqprop
