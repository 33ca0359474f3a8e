// The inner loops of the hand-written kernels (sparse input, narrow output layer, the state
// update's blend). Header-only and always inlined, so that each caller's clone (clones.hpp)
// compiles them for its own vector unit.
#pragma once
#include <cstddef>

#include "eqprop/kernels/clones.hpp"

namespace eqprop {

// out[j] += sum_e v[e] * rows_of[which[e]][j] for j < cols (rows_of is row-major with leading
// dimension ld), the terms added one after another in e order. Four rows per pass over out,
// and the last one to three in one more pass, so out is loaded and stored as seldom as the
// grouping allows (a W_1 row gets about 7 terms per minibatch: two passes, not four).
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
  const int left = count - e;
  if (left == 0) return;
  const T* __restrict w0 = rows_of + which[e] * ld;
  const T v0 = v[e];
  if (left == 1) {
    for (int j = 0; j < cols; ++j) out[j] = out[j] + v0 * w0[j];
    return;
  }
  const T* __restrict w1 = rows_of + which[e + 1] * ld;
  const T v1 = v[e + 1];
  if (left == 2) {
    for (int j = 0; j < cols; ++j) out[j] = out[j] + v0 * w0[j] + v1 * w1[j];
    return;
  }
  const T* __restrict w2 = rows_of + which[e + 2] * ld;
  const T v2 = v[e + 2];
  for (int j = 0; j < cols; ++j) out[j] = out[j] + v0 * w0[j] + v1 * w1[j] + v2 * w2[j];
}

// out[j] = clip(keep * h[j] + eps * (d[j] + extra[j]), 0, 1) for j < count; extra may be null
// (then it is 0). out may be d: the synchronous update writes the new state over its drive.
template <typename T>
EQPROP_KERNEL void blend_clip(T* out, const T* h, const T* d, const T* extra, T keep, T eps, std::size_t count) {
  if (extra) {
    for (std::size_t j = 0; j < count; ++j) {
      const T v = keep * h[j] + eps * (d[j] + extra[j]);
      out[j] = v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
    }
  } else {
    for (std::size_t j = 0; j < count; ++j) {
      const T v = keep * h[j] + eps * d[j];
      out[j] = v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
    }
  }
}

}  // namespace eqprop
