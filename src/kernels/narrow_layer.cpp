#include "eqprop/kernels/narrow_layer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>

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

// Rows of h against the padded W: kNarrowUnits multiply-adds per input unit, as P vectors of
// Bytes (one AVX-512 vector of floats, two AVX2 ones). Four rows at a time share each load of
// W (at 32 KB, W streams from L2) and make four independent chains of additions. A last group
// of fewer rows repeats its last row and stores only the real ones, so every row is summed the
// same way (k in order) wherever it sits in the chunk. Written with the compiler's vector
// extension: left to itself the vectorizer shuffles the accumulators into each other. The
// vector is the CPU's own width: a wider one is split by the compiler through the stack,
// which made net1 7x slower on an AVX2 CPU.
template <typename T, int Bytes>
EQPROP_KERNEL void up_kernel(int rows, int n, int m, const T* h, const T* padded, T* out) {
  constexpr int L = Bytes / int(sizeof(T));  // lanes per vector
  constexpr int P = kNarrowUnits / L;        // vectors per padded row of W
  static_assert(P * L == kNarrowUnits, "a padded row is whole vectors");
  typedef T Vec __attribute__((vector_size(Bytes)));
  for (int i = 0; i < rows; i += 4) {
    const T* hr[4];
    for (int r = 0; r < 4; ++r) hr[r] = h + std::size_t(std::min(i + r, rows - 1)) * n;
    Vec a[4][P] = {};
    for (int k = 0; k < n; ++k) {
      const T* wk = padded + std::size_t(k) * kNarrowUnits;
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        Vec w;
        std::memcpy(&w, wk + p * L, sizeof w);
        a[0][p] += hr[0][k] * w;
        a[1][p] += hr[1][k] * w;
        a[2][p] += hr[2][k] * w;
        a[3][p] += hr[3][k] * w;
      }
    }
    for (int r = 0; r < 4 && i + r < rows; ++r) {
      T* o = out + std::size_t(i + r) * m;
      for (int j = 0; j < m; ++j) o[j] += a[r][j / L][j % L];
    }
  }
}

// One pass per row: for each block of 64 bytes of units, the drive plus all m products are
// summed in registers (j in order), then blended, clipped and stored once. Written with the
// compiler's vector extension so that the sums stay in registers. The block is 64 bytes in
// every path (one AVX-512 vector, two AVX2 ones), so every path leaves the same units to the
// scalar tail, whose contractions round differently from the vector body's.
template <typename T, int Bytes>
EQPROP_KERNEL void down_blend_kernel(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h,
                                     T keep, T eps, T* d) {
  constexpr int V = 64 / int(sizeof(T));     // units per block
  constexpr int L = Bytes / int(sizeof(T));  // lanes per vector
  constexpr int P = V / L;                   // vectors per block
  typedef T Vec __attribute__((vector_size(Bytes)));
  const Vec zero = {}, one = zero + T(1);
  for (int i = 0; i < rows; ++i) {
    T* out = d + std::size_t(i) * n;
    const T* start = drive ? drive + std::size_t(i) * n : out;
    const T* hi = h + std::size_t(i) * n;
    const T* hLi = hL + std::size_t(i) * m;
    int k = 0;
    for (; k + V <= n; k += V) {
      Vec acc[P];
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) std::memcpy(&acc[p], start + k + p * L, sizeof(Vec));
      for (int j = 0; j < m; ++j) {
        const T* wj = wt + std::size_t(j) * n + k;
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) {
          Vec w;
          std::memcpy(&w, wj + p * L, sizeof w);
          acc[p] += hLi[j] * w;
        }
      }
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        Vec old;
        std::memcpy(&old, hi + k + p * L, sizeof old);
        Vec v = keep * old + eps * acc[p];
        v = v < zero ? zero : v;
        v = v > one ? one : v;
        std::memcpy(out + k + p * L, &v, sizeof v);
      }
    }
    for (; k < n; ++k) {
      T acc = start[k];
      for (int j = 0; j < m; ++j) acc += hLi[j] * wt[std::size_t(j) * n + k];
      const T v = keep * hi[k] + eps * acc;
      out[k] = v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
    }
  }
}

// One function per path and scalar type, each compiled for its x86-64 level (the kernels are
// inlined into them). Same element-wise operations in every path: the two FMA paths give the
// same bits; the baseline one, without FMA, rounds the products apart.
#if defined(__x86_64__)
#define EQPROP_NARROW_V4 __attribute__((target("arch=x86-64-v4")))
#define EQPROP_NARROW_V3 __attribute__((target("arch=x86-64-v3")))
#else
#define EQPROP_NARROW_V4
#define EQPROP_NARROW_V3
#endif

template <typename T>
EQPROP_NARROW_V4 void up_v4(int rows, int n, int m, const T* h, const T* padded, T* out) {
  up_kernel<T, 64>(rows, n, m, h, padded, out);
}
template <typename T>
EQPROP_NARROW_V3 void up_v3(int rows, int n, int m, const T* h, const T* padded, T* out) {
  up_kernel<T, 32>(rows, n, m, h, padded, out);
}
template <typename T>
void up_base(int rows, int n, int m, const T* h, const T* padded, T* out) {
  up_kernel<T, 16>(rows, n, m, h, padded, out);
}
template <typename T>
EQPROP_NARROW_V4 void down_v4(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep,
                              T eps, T* d) {
  down_blend_kernel<T, 64>(rows, n, m, hL, wt, drive, h, keep, eps, d);
}
template <typename T>
EQPROP_NARROW_V3 void down_v3(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep,
                              T eps, T* d) {
  down_blend_kernel<T, 32>(rows, n, m, hL, wt, drive, h, keep, eps, d);
}
template <typename T>
void down_base(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep, T eps, T* d) {
  down_blend_kernel<T, 16>(rows, n, m, hL, wt, drive, h, keep, eps, d);
}

NarrowPath detect_path() {
#if defined(__x86_64__)
  // The features of the levels the paths are compiled for, by name: Clang 14 does not know
  // the level names ("x86-64-v3") in __builtin_cpu_supports, GCC 12 does.
  __builtin_cpu_init();
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
                  __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
  if (v4) return NarrowPath::Avx512;
  if (v3) return NarrowPath::Avx2;
#endif
  return NarrowPath::Baseline;
}

void require(NarrowPath path) {
  if (!narrow_path_available(path)) throw std::logic_error("narrow loops: this vector path is not available here");
}

template <typename T>
void up_on(NarrowPath path, int rows, int n, int m, const T* h, const T* padded, T* out) {
  switch (path) {
    case NarrowPath::Avx512: return up_v4(rows, n, m, h, padded, out);
    case NarrowPath::Avx2: return up_v3(rows, n, m, h, padded, out);
    case NarrowPath::Baseline: break;
  }
  up_base(rows, n, m, h, padded, out);
}

template <typename T>
void down_on(NarrowPath path, int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep,
             T eps, T* d) {
  switch (path) {
    case NarrowPath::Avx512: return down_v4(rows, n, m, hL, wt, drive, h, keep, eps, d);
    case NarrowPath::Avx2: return down_v3(rows, n, m, hL, wt, drive, h, keep, eps, d);
    case NarrowPath::Baseline: break;
  }
  down_base(rows, n, m, hL, wt, drive, h, keep, eps, d);
}

}  // namespace

NarrowPath narrow_path() {
  // Looked up once; a process never changes CPU. ThreadSanitizer builds keep to the baseline
  // loops, as they do for the clones (clones.hpp).
#if defined(EQPROP_TSAN_BUILD) || defined(EQPROP_NO_CLONES)
  static const NarrowPath path = NarrowPath::Baseline;
#else
  static const NarrowPath path = detect_path();
#endif
  return path;
}

bool narrow_path_available(NarrowPath path) {
  if (path == NarrowPath::Baseline) return true;
  const NarrowPath best = narrow_path();  // the widest this build uses here
  return best == NarrowPath::Avx512 || path == best;
}

void narrow_up_on(NarrowPath path, int rows, int n, int m, const float* h, const float* padded, float* out) {
  require(path);
  up_on(path, rows, n, m, h, padded, out);
}
void narrow_up_on(NarrowPath path, int rows, int n, int m, const double* h, const double* padded, double* out) {
  require(path);
  up_on(path, rows, n, m, h, padded, out);
}
void narrow_down_blend_on(NarrowPath path, int rows, int n, int m, const float* hL, const float* wt,
                          const float* drive, const float* h, float keep, float eps, float* d) {
  require(path);
  down_on(path, rows, n, m, hL, wt, drive, h, keep, eps, d);
}
void narrow_down_blend_on(NarrowPath path, int rows, int n, int m, const double* hL, const double* wt,
                          const double* drive, const double* h, double keep, double eps, double* d) {
  require(path);
  down_on(path, rows, n, m, hL, wt, drive, h, keep, eps, d);
}

void narrow_up(int rows, int n, int m, const float* h, const float* padded, float* out) {
  up_on(narrow_path(), rows, n, m, h, padded, out);
}
void narrow_up(int rows, int n, int m, const double* h, const double* padded, double* out) {
  up_on(narrow_path(), rows, n, m, h, padded, out);
}
void narrow_down_blend(int rows, int n, int m, const float* hL, const float* wt, const float* drive, const float* h,
                       float keep, float eps, float* d) {
  down_on(narrow_path(), rows, n, m, hL, wt, drive, h, keep, eps, d);
}
void narrow_down_blend(int rows, int n, int m, const double* hL, const double* wt, const double* drive,
                       const double* h, double keep, double eps, double* d) {
  down_on(narrow_path(), rows, n, m, hL, wt, drive, h, keep, eps, d);
}

template struct NarrowTop<float>;
template struct NarrowTop<double>;

}  // namespace eqprop
