#include "eqprop/kernels/narrow_layer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "eqprop/kernels/clones.hpp"
#include "eqprop/kernels/row_kernels.hpp"

namespace eqprop {

template <typename T>
void NarrowTop<T>::refresh(const T* W, int n, int m) {
  if (m > kNarrowUnits) {
    wt.clear();
    padded.clear();
    return;
  }
  wt.resize(std::size_t(m) * n);
  padded.assign(std::size_t(n) * kNarrowUnits, T(0));
  for (int k = 0; k < n; ++k) {
    for (int j = 0; j < m; ++j) {
      wt[std::size_t(j) * n + k] = W[std::size_t(k) * m + j];
      padded[std::size_t(k) * kNarrowUnits + j] = W[std::size_t(k) * m + j];
    }
  }
}

namespace {

// Rows of h against the padded W: one kNarrowUnits-wide multiply-add per input unit (one
// AVX-512 vector of floats). Four rows at a time share each load of W (at 32 KB, W streams
// from L2) and make four independent chains of additions. A last group of fewer rows repeats
// its last row and stores only the real ones, so every row is summed the same way (k in
// order) wherever it sits in the chunk. Written with the compiler's vector extension: left
// to itself the vectorizer shuffles the accumulators into each other.
template <typename T>
EQPROP_KERNEL void up_kernel(int rows, int n, int m, const T* h, const T* padded, T* out) {
  typedef T Vec __attribute__((vector_size(kNarrowUnits * sizeof(T))));
  for (int i = 0; i < rows; i += 4) {
    const T* hr[4];
    for (int r = 0; r < 4; ++r) hr[r] = h + std::size_t(std::min(i + r, rows - 1)) * n;
    Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
    for (int k = 0; k < n; ++k) {
      Vec w;
      std::memcpy(&w, padded + std::size_t(k) * kNarrowUnits, sizeof w);
      a0 += hr[0][k] * w;
      a1 += hr[1][k] * w;
      a2 += hr[2][k] * w;
      a3 += hr[3][k] * w;
    }
    const Vec* acc[4] = {&a0, &a1, &a2, &a3};
    for (int r = 0; r < 4 && i + r < rows; ++r) {
      T* o = out + std::size_t(i + r) * m;
      for (int j = 0; j < m; ++j) o[j] += (*acc[r])[j];
    }
  }
}

// One pass per row: for each 64-byte vector of units, the drive plus all m products are summed
// in a register (j in order), then blended, clipped and stored once. Written with the
// compiler's vector extension so that the sum stays in one register.
template <typename T>
EQPROP_KERNEL void down_blend_kernel(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h,
                                     T keep, T eps, T* d) {
  constexpr int V = 64 / sizeof(T);
  typedef T Vec __attribute__((vector_size(64)));
  const Vec zero = {}, one = zero + T(1);
  for (int i = 0; i < rows; ++i) {
    T* out = d + std::size_t(i) * n;
    const T* start = drive ? drive + std::size_t(i) * n : out;
    const T* hi = h + std::size_t(i) * n;
    const T* hLi = hL + std::size_t(i) * m;
    int k = 0;
    for (; k + V <= n; k += V) {
      Vec acc, w, old;
      std::memcpy(&acc, start + k, sizeof acc);
      for (int j = 0; j < m; ++j) {
        std::memcpy(&w, wt + std::size_t(j) * n + k, sizeof w);
        acc += hLi[j] * w;
      }
      std::memcpy(&old, hi + k, sizeof old);
      Vec v = keep * old + eps * acc;
      v = v < zero ? zero : v;
      v = v > one ? one : v;
      std::memcpy(out + k, &v, sizeof v);
    }
    for (; k < n; ++k) {
      T acc = start[k];
      for (int j = 0; j < m; ++j) acc += hLi[j] * wt[std::size_t(j) * n + k];
      const T v = keep * hi[k] + eps * acc;
      out[k] = v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
    }
  }
}

}  // namespace

// The public entry points are the clones themselves (clones.hpp): one per scalar type.
EQPROP_CLONES void narrow_up(int rows, int n, int m, const float* h, const float* padded, float* out) {
  up_kernel(rows, n, m, h, padded, out);
}
EQPROP_CLONES void narrow_up(int rows, int n, int m, const double* h, const double* padded, double* out) {
  up_kernel(rows, n, m, h, padded, out);
}
EQPROP_CLONES void narrow_down_blend(int rows, int n, int m, const float* hL, const float* wt, const float* drive,
                                     const float* h, float keep, float eps, float* d) {
  down_blend_kernel(rows, n, m, hL, wt, drive, h, keep, eps, d);
}
EQPROP_CLONES void narrow_down_blend(int rows, int n, int m, const double* hL, const double* wt, const double* drive,
                                     const double* h, double keep, double eps, double* d) {
  down_blend_kernel(rows, n, m, hL, wt, drive, h, keep, eps, d);
}

template struct NarrowTop<float>;
template struct NarrowTop<double>;

}  // namespace eqprop
