#include "eqprop/kernels/narrow_layer.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <type_traits>

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
// Bytes (one AVX-512 vector of floats, two AVX2 ones). R rows at a time share each load of W
// (at 32 KB, W streams from L2) and make R * P independent chains of additions: R = 5 in the
// FMA paths, so a training chunk of 10 rows is two groups with no idle row (R = 4 computed
// 12) and ten chains hide the FMA latency (AVX2: 1.25x as fast as R = 4 on a 10 x 500 step).
// A last group of fewer rows repeats its last row and stores only the real ones, so every row
// is summed the same way (k in order) wherever it sits in the chunk. Written with the
// compiler's vector extension: left to itself the vectorizer shuffles the accumulators into
// each other. The vector is the CPU's own width: a wider one is split by the compiler through
// the stack, which made net1 7x slower on an AVX2 CPU.
template <typename T, int Bytes, int R>
EQPROP_KERNEL void up_kernel(int rows, int n, int m, const T* h, const T* padded, T* out) {
  constexpr int L = Bytes / int(sizeof(T));  // lanes per vector
  constexpr int P = kNarrowUnits / L;        // vectors per padded row of W
  static_assert(P * L == kNarrowUnits, "a padded row is whole vectors");
  typedef T Vec __attribute__((vector_size(Bytes)));
  for (int i = 0; i < rows; i += R) {
    const T* hr[R];
    for (int r = 0; r < R; ++r) hr[r] = h + std::size_t(std::min(i + r, rows - 1)) * n;
    Vec a[R][P] = {};
    for (int k = 0; k < n; ++k) {
      const T* wk = padded + std::size_t(k) * kNarrowUnits;
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        Vec w;
        std::memcpy(&w, wk + p * L, sizeof w);
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) a[r][p] += hr[r][k] * w;
      }
    }
    for (int r = 0; r < R && i + r < rows; ++r) {
      T* o = out + std::size_t(i + r) * m;
      for (int j = 0; j < m; ++j) o[j] += a[r][j / L][j % L];
    }
  }
}

// One unit of the top-down blend outside the 64-byte blocks, with its rounding spelled out:
// the m terms in groups of 16 bytes (4 floats, 2 doubles), each group's products rounded and
// added in order, then the rest fused; then clip(keep h + eps acc). This is what GCC 12 made
// of the plain loop in every path, written out so that the bits no longer hang on how the
// compiler vectorizes it (a copy specialized for m = 10 fused every term).
template <typename T, bool Fma>
EQPROP_KERNEL T tail_unit(int m, int n, int k, T acc, const T* hLi, const T* wt, T h, T keep, T eps) {
  constexpr int G = 16 / int(sizeof(T));
  typedef T Group __attribute__((vector_size(16)));
  int j = 0;
  for (; j + G <= m; j += G) {
    Group a, w;
    for (int q = 0; q < G; ++q) a[q] = hLi[j + q], w[q] = wt[std::size_t(j + q) * n + k];
    const Group p = a * w;  // whole-vector products: not fused into the additions below
    for (int q = 0; q < G; ++q) acc = acc + p[q];
  }
  for (; j < m; ++j) {
    const T w = wt[std::size_t(j) * n + k];
    acc = Fma ? std::fma(hLi[j], w, acc) : acc + hLi[j] * w;
  }
  const T e = eps * acc;
  const T v = Fma ? std::fma(keep, h, e) : keep * h + e;
  return v < T(0) ? T(0) : (v > T(1) ? T(1) : v);
}

// One pass per row: for each block of 64 bytes of units, the drive plus all m products are
// summed in registers (j in order), then blended, clipped and stored once. Written with the
// compiler's vector extension so that the sums stay in registers. The block is 64 bytes in
// every path (one AVX-512 vector, two AVX2 ones), so every path leaves the same units to the
// scalar tail (tail_unit), which rounds differently from the vector body.
//
// M > 0 is m known when compiling (the FMA paths' copy for 10 output units: every data set
// here has 10 classes): the row's m values of hL are broadcast into registers once per row, not
// once per block, and two blocks share a pass, four chains of m additions in flight instead of
// two. The same operations in the same order, so the same bits; 1.3x as fast on a 10 x 500
// step (AVX2). The second loop takes a last single block, so the tail is the same units.
template <typename T, int Bytes, int M>
EQPROP_KERNEL void down_blend_kernel(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h,
                                     T keep, T eps, T* d) {
  constexpr int V = 64 / int(sizeof(T));     // units per block
  constexpr int L = Bytes / int(sizeof(T));  // lanes per vector
  constexpr int P = V / L;                   // vectors per block
  constexpr int U = M > 0 ? 2 : 1;           // blocks per pass
  typedef T Vec __attribute__((vector_size(Bytes)));
  const Vec zero = {}, one = zero + T(1);
  // The terms of blocks [k, k + B * V): acc[p] holds units k + p L.., summed into from the start.
  auto blocks = [&](auto width, int k, const T* start, const T* hLi, const Vec* hb, const T* hi, T* out) {
    constexpr int B = decltype(width)::value;
    Vec acc[B * P];
#pragma GCC unroll 8
    for (int p = 0; p < B * P; ++p) std::memcpy(&acc[p], start + k + p * L, sizeof(Vec));
#pragma GCC unroll 16
    for (int j = 0; j < (M > 0 ? M : m); ++j) {
      const T* wj = wt + std::size_t(j) * n + k;
      const Vec hj = M > 0 ? hb[j] : zero + hLi[j];
#pragma GCC unroll 8
      for (int p = 0; p < B * P; ++p) {
        Vec w;
        std::memcpy(&w, wj + p * L, sizeof w);
        acc[p] += hj * w;
      }
    }
#pragma GCC unroll 8
    for (int p = 0; p < B * P; ++p) {
      Vec old;
      std::memcpy(&old, hi + k + p * L, sizeof old);
      Vec v = keep * old + eps * acc[p];
      v = v < zero ? zero : v;
      v = v > one ? one : v;
      std::memcpy(out + k + p * L, &v, sizeof v);
    }
  };
  for (int i = 0; i < rows; ++i) {
    T* out = d + std::size_t(i) * n;
    const T* start = drive ? drive + std::size_t(i) * n : out;
    const T* hi = h + std::size_t(i) * n;
    const T* hLi = hL + std::size_t(i) * m;
    Vec hb[M > 0 ? M : 1];
    for (int j = 0; j < M; ++j) hb[j] = zero + hLi[j];
    int k = 0;
    for (; k + U * V <= n; k += U * V) blocks(std::integral_constant<int, U>(), k, start, hLi, hb, hi, out);
    for (; k + V <= n; k += V) blocks(std::integral_constant<int, 1>(), k, start, hLi, hb, hi, out);
    for (; k < n; ++k) out[k] = tail_unit<T, Bytes >= 32>(m, n, k, start[k], hLi, wt, hi[k], keep, eps);
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
  up_kernel<T, 64, 5>(rows, n, m, h, padded, out);
}
template <typename T>
EQPROP_NARROW_V3 void up_v3(int rows, int n, int m, const T* h, const T* padded, T* out) {
  up_kernel<T, 32, 5>(rows, n, m, h, padded, out);
}
template <typename T>
void up_base(int rows, int n, int m, const T* h, const T* padded, T* out) {
  up_kernel<T, 16, 4>(rows, n, m, h, padded, out);
}
template <typename T>
EQPROP_NARROW_V4 void down_v4(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep,
                              T eps, T* d) {
  if (m == 10) return down_blend_kernel<T, 64, 10>(rows, n, m, hL, wt, drive, h, keep, eps, d);
  down_blend_kernel<T, 64, 0>(rows, n, m, hL, wt, drive, h, keep, eps, d);
}
template <typename T>
EQPROP_NARROW_V3 void down_v3(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep,
                              T eps, T* d) {
  if (m == 10) return down_blend_kernel<T, 32, 10>(rows, n, m, hL, wt, drive, h, keep, eps, d);
  down_blend_kernel<T, 32, 0>(rows, n, m, hL, wt, drive, h, keep, eps, d);
}
template <typename T>
void down_base(int rows, int n, int m, const T* hL, const T* wt, const T* drive, const T* h, T keep, T eps, T* d) {
  down_blend_kernel<T, 16, 0>(rows, n, m, hL, wt, drive, h, keep, eps, d);
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
