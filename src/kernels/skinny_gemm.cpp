#include "eqprop/kernels/skinny_gemm.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>

#if defined(__x86_64__)
#include <immintrin.h>
#define EQPROP_SKINNY_X86 1
#endif

namespace eqprop {

#if EQPROP_SKINNY_X86
namespace {

// Rows are split into near-equal blocks of at most R_MAX, so that a block's partial sums for
// a block of columns fit the vector registers: AVX-512 2 x 16 columns for up to 12 rows (24
// accumulators of 32 registers), AVX2 2 x 8 columns for up to 6 rows (12 of 16).
template <typename F>
void row_blocks(int rows, int r_max, F&& f) {
  const int blocks = (rows + r_max - 1) / r_max;
  int first = 0;
  for (int b = 0; b < blocks; ++b) {
    const int r = rows / blocks + (b < rows % blocks ? 1 : 0);
    f(first, r);
    first += r;
  }
}

// ---- AVX-512 ----------------------------------------------------------------------------

template <int R>
__attribute__((target("avx512f"))) void block512(int n, int K, const float* A, int lda, const float* B, int ldb,
                                                 float* C, int ldc, bool acc) {
  int j = 0;
  for (; j + 32 <= n; j += 32) {
    __m512 c0[R], c1[R];
    for (int i = 0; i < R; ++i) {
      c0[i] = acc ? _mm512_loadu_ps(C + std::size_t(i) * ldc + j) : _mm512_setzero_ps();
      c1[i] = acc ? _mm512_loadu_ps(C + std::size_t(i) * ldc + j + 16) : _mm512_setzero_ps();
    }
    const float* b = B + j;
    for (int k = 0; k < K; ++k, b += ldb) {
      const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
      for (int i = 0; i < R; ++i) {
        const __m512 a = _mm512_set1_ps(A[std::size_t(i) * lda + k]);
        c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
      }
    }
    for (int i = 0; i < R; ++i) {
      _mm512_storeu_ps(C + std::size_t(i) * ldc + j, c0[i]);
      _mm512_storeu_ps(C + std::size_t(i) * ldc + j + 16, c1[i]);
    }
  }
  for (; j < n; j += 16) {  // the last columns, 16 at a time with a mask
    const __mmask16 m = n - j >= 16 ? __mmask16(0xffff) : __mmask16((1u << (n - j)) - 1);
    __m512 c0[R];
    for (int i = 0; i < R; ++i) c0[i] = acc ? _mm512_maskz_loadu_ps(m, C + std::size_t(i) * ldc + j) : _mm512_setzero_ps();
    const float* b = B + j;
    for (int k = 0; k < K; ++k, b += ldb) {
      const __m512 b0 = _mm512_maskz_loadu_ps(m, b);
      for (int i = 0; i < R; ++i) c0[i] = _mm512_fmadd_ps(_mm512_set1_ps(A[std::size_t(i) * lda + k]), b0, c0[i]);
    }
    for (int i = 0; i < R; ++i) _mm512_mask_storeu_ps(C + std::size_t(i) * ldc + j, m, c0[i]);
  }
}

// ---- AVX2 + FMA -------------------------------------------------------------------------

// The k loop of both AVX2 blocks: R rows' sums for 16 columns, B's 16 values for step k at
// b + k * step (a row of B in place, or the next 64 bytes of a packed panel).
template <int R>
__attribute__((target("avx2,fma"), always_inline)) inline void fma_16(int K, const float* A, int lda, const float* b,
                                                                      std::size_t step, __m256 (&c0)[R],
                                                                      __m256 (&c1)[R]) {
  for (int k = 0; k < K; ++k, b += step) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    for (int i = 0; i < R; ++i) {
      const __m256 a = _mm256_broadcast_ss(A + std::size_t(i) * lda + k);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
  }
}

template <int R>
__attribute__((target("avx2,fma"))) void block256(int n, int K, const float* A, int lda, const float* B, int ldb,
                                                  float* C, int ldc, bool acc) {
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    __m256 c0[R], c1[R];
    for (int i = 0; i < R; ++i) {
      c0[i] = acc ? _mm256_loadu_ps(C + std::size_t(i) * ldc + j) : _mm256_setzero_ps();
      c1[i] = acc ? _mm256_loadu_ps(C + std::size_t(i) * ldc + j + 8) : _mm256_setzero_ps();
    }
    fma_16<R>(K, A, lda, B + j, std::size_t(ldb), c0, c1);
    for (int i = 0; i < R; ++i) {
      _mm256_storeu_ps(C + std::size_t(i) * ldc + j, c0[i]);
      _mm256_storeu_ps(C + std::size_t(i) * ldc + j + 8, c1[i]);
    }
  }
  for (; j < n; j += 8) {  // the last columns, 8 at a time with a mask
    const int left = std::min(8, n - j);
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 c0[R];
    for (int i = 0; i < R; ++i) c0[i] = acc ? _mm256_maskload_ps(C + std::size_t(i) * ldc + j, m) : _mm256_setzero_ps();
    const float* b = B + j;
    for (int k = 0; k < K; ++k, b += ldb) {
      const __m256 b0 = _mm256_maskload_ps(b, m);
      for (int i = 0; i < R; ++i) c0[i] = _mm256_fmadd_ps(_mm256_broadcast_ss(A + std::size_t(i) * lda + k), b0, c0[i]);
    }
    for (int i = 0; i < R; ++i) _mm256_maskstore_ps(C + std::size_t(i) * ldc + j, m, c0[i]);
  }
}

// The same over B packed in 16-column panels (pack_panels): each k reads one panel's 64
// contiguous bytes. A last partial panel is computed whole (its missing columns are 0 in P)
// and stored under a mask, so every stored element is the same fma chain as block256's.
template <int R>
__attribute__((target("avx2,fma"))) void block256_packed(int n, int K, const float* A, int lda, const float* P,
                                                         float* C, int ldc, bool acc) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int j = 0; j < n; j += 16) {
    const int left = std::min(16, n - j);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(left - 8), lane);
    __m256 c0[R], c1[R];
    for (int i = 0; i < R; ++i) {
      c0[i] = acc ? _mm256_maskload_ps(C + std::size_t(i) * ldc + j, m0) : _mm256_setzero_ps();
      c1[i] = acc ? _mm256_maskload_ps(C + std::size_t(i) * ldc + j + 8, m1) : _mm256_setzero_ps();
    }
    fma_16<R>(K, A, lda, P + std::size_t(j / 16) * std::size_t(K) * 16, 16, c0, c1);
    for (int i = 0; i < R; ++i) {
      _mm256_maskstore_ps(C + std::size_t(i) * ldc + j, m0, c0[i]);
      _mm256_maskstore_ps(C + std::size_t(i) * ldc + j + 8, m1, c1[i]);
    }
  }
}

using Block = void (*)(int, int, const float*, int, const float*, int, float*, int, bool);
using PackedBlock = void (*)(int, int, const float*, int, const float*, float*, int, bool);

template <int R>
struct K512 {
  static constexpr Block f = &block512<R>;
};
template <int R>
struct K256 {
  static constexpr Block f = &block256<R>;
};

constexpr Block kBlocks512[13] = {nullptr,    K512<1>::f, K512<2>::f, K512<3>::f,  K512<4>::f,  K512<5>::f, K512<6>::f,
                                  K512<7>::f, K512<8>::f, K512<9>::f, K512<10>::f, K512<11>::f, K512<12>::f};
constexpr Block kBlocks256[7] = {nullptr, K256<1>::f, K256<2>::f, K256<3>::f, K256<4>::f, K256<5>::f, K256<6>::f};
template <int R>
struct K256P {
  static constexpr PackedBlock f = &block256_packed<R>;
};
constexpr PackedBlock kBlocks256Packed[7] = {nullptr,       K256P<1>::f, K256P<2>::f, K256P<3>::f,
                                             K256P<4>::f, K256P<5>::f, K256P<6>::f};

enum class Level { None, Avx2, Avx512 };

Level cpu_level() {
  // Looked up once; a process never changes CPU.
  static const Level level = [] {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return Level::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Level::Avx2;
    return Level::None;
  }();
  return level;
}

}  // namespace

bool skinny_available(int rows) { return rows >= 1 && cpu_level() != Level::None; }

bool skinny_path_available(SkinnyPath path) {
  const Level l = cpu_level();
  return path == SkinnyPath::Avx2 ? l != Level::None : l == Level::Avx512;
}

void skinny_gemm_on(SkinnyPath path, int rows, int n, int K, const float* A, int lda, const float* B, int ldb, float* C,
                    int ldc, bool accumulate) {
  if (!skinny_path_available(path) || rows < 1) {
    throw std::logic_error("skinny_gemm: this path is not available here, or rows < 1");
  }
  const bool wide = path == SkinnyPath::Avx512;
  // A B larger than the L2 cache goes in panels of 64 columns, every row block over one panel
  // before the next: K x 64 floats (200 KB at K = 784) stay in L2 while the row blocks read
  // them, where a 500 x 500 B (1 MB) came whole from L3 once per row block (net2 and net3 train
  // 8-10 % faster on an AVX2 EPYC). A smaller B stays in L2 anyway, and there the extra calls
  // cost (a conv net's products, 13 % slower in panels). Each element is still one chain over
  // k, so the panels change no bit.
  constexpr std::size_t kPanelAbove = 256 * 1024;  // bytes of B; under the smallest L2 (512 KB)
  const int panel = std::size_t(K) * std::size_t(n) * sizeof(float) > kPanelAbove ? 64 : std::max(n, 1);
  for (int j0 = 0; j0 < n; j0 += panel) {
    const int nj = std::min(panel, n - j0);
    row_blocks(rows, wide ? 12 : 6, [&](int first, int r) {
      const Block f = wide ? kBlocks512[r] : kBlocks256[r];
      f(nj, K, A + std::size_t(first) * lda, lda, B + j0, ldb, C + std::size_t(first) * ldc + j0, ldc, accumulate);
    });
  }
}

void skinny_gemm(int rows, int n, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                 bool accumulate) {
  skinny_gemm_on(cpu_level() == Level::Avx512 ? SkinnyPath::Avx512 : SkinnyPath::Avx2, rows, n, K, A, lda, B, ldb, C,
                 ldc, accumulate);
}

bool skinny_packs() { return cpu_level() == Level::Avx2; }

void skinny_gemm_packed(int rows, int n, int K, const float* A, int lda, const float* P, float* C, int ldc,
                        bool accumulate) {
  if (!skinny_path_available(SkinnyPath::Avx2) || rows < 1) {
    throw std::logic_error("skinny_gemm_packed: no AVX2 and FMA on this CPU, or rows < 1");
  }
  // The panels are contiguous, so a row block reads all of P in one sequential pass.
  row_blocks(rows, 6, [&](int first, int r) {
    kBlocks256Packed[r](n, K, A + std::size_t(first) * lda, lda, P, C + std::size_t(first) * ldc, ldc, accumulate);
  });
}

#else

bool skinny_available(int) { return false; }
bool skinny_packs() { return false; }
void skinny_gemm_packed(int, int, int, const float*, int, const float*, float*, int, bool) {
  throw std::logic_error("skinny_gemm_packed: not available on this CPU");
}
bool skinny_path_available(SkinnyPath) { return false; }
void skinny_gemm_on(SkinnyPath, int, int, int, const float*, int, const float*, int, float*, int, bool) {
  throw std::logic_error("skinny_gemm: not available on this CPU (check skinny_available first)");
}
void skinny_gemm(int, int, int, const float*, int, const float*, int, float*, int, bool) {
  throw std::logic_error("skinny_gemm: not available on this CPU (check skinny_available first)");
}

#endif

std::size_t packed_floats(int K, int n) { return std::size_t((n + 15) / 16) * std::size_t(K) * 16; }

void pack_panels(int K, int n, const float* B, int ldb, float* P) {
  for (int p = 0; p * 16 < n; ++p) {
    const int cols = std::min(16, n - p * 16);
    float* out = P + std::size_t(p) * std::size_t(K) * 16;
    for (int k = 0; k < K; ++k, out += 16) {
      const float* in = B + std::size_t(k) * ldb + p * 16;
      for (int c = 0; c < 16; ++c) out[c] = c < cols ? in[c] : 0.f;
    }
  }
}

void transpose(int rows, int cols, const float* src, float* dst) {
  constexpr int kTile = 32;
  for (int i0 = 0; i0 < rows; i0 += kTile)
    for (int j0 = 0; j0 < cols; j0 += kTile)
      for (int i = i0; i < std::min(rows, i0 + kTile); ++i)
        for (int j = j0; j < std::min(cols, j0 + kTile); ++j) dst[std::size_t(j) * rows + i] = src[std::size_t(i) * cols + j];
}

}  // namespace eqprop
