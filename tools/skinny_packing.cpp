// Is a packed W worth it for the AVX2 skinny loops? Times the 5-row AVX2 block of
// src/kernels/skinny_gemm.cpp on a 10 x 496 x 496 product (a net2 chunk) three ways:
//   panel   B read in place, 64-column panels (what skinny_gemm does for a B over 256 KB)
//   whole   B read in place, each row block over all columns (before the panels)
//   packed  B copied once into 16-column panels, [n/16][K][16], so the k loop reads it
//           contiguously (the copy is not timed: the engine would make it once per minibatch,
//           as it makes W_k^T)
// and checks that the three give the same bits. Build and run (one core, quiet machine):
//   g++ -O3 -std=c++17 tools/skinny_packing.cpp -o /tmp/skinny_packing && taskset -c 1 /tmp/skinny_packing
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

template <int R>
__attribute__((target("avx2,fma"))) void block(int n, int K, const float* A, int lda, const float* B, int ldb,
                                               float* C, int ldc) {
  for (int j = 0; j + 16 <= n; j += 16) {
    __m256 c0[R], c1[R];
    for (int i = 0; i < R; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
    const float* b = B + j;
    for (int k = 0; k < K; ++k, b += ldb) {
      const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
      for (int i = 0; i < R; ++i) {
        const __m256 a = _mm256_broadcast_ss(A + std::size_t(i) * lda + k);
        c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
      }
    }
    for (int i = 0; i < R; ++i) {
      _mm256_storeu_ps(C + std::size_t(i) * ldc + j, c0[i]);
      _mm256_storeu_ps(C + std::size_t(i) * ldc + j + 8, c1[i]);
    }
  }
}

template <int R>
__attribute__((target("avx2,fma"))) void block_packed(int n, int K, const float* A, int lda, const float* P, float* C,
                                                      int ldc) {
  for (int j = 0; j + 16 <= n; j += 16) {
    __m256 c0[R], c1[R];
    for (int i = 0; i < R; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
    const float* b = P + std::size_t(j / 16) * K * 16;
    for (int k = 0; k < K; ++k, b += 16) {
      const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
      for (int i = 0; i < R; ++i) {
        const __m256 a = _mm256_broadcast_ss(A + std::size_t(i) * lda + k);
        c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
        c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
      }
    }
    for (int i = 0; i < R; ++i) {
      _mm256_storeu_ps(C + std::size_t(i) * ldc + j, c0[i]);
      _mm256_storeu_ps(C + std::size_t(i) * ldc + j + 8, c1[i]);
    }
  }
}

int main() {
  constexpr int M = 10, K = 496, N = 496, kReps = 400;  // N a multiple of 16: no column tail
  std::vector<float> A(std::size_t(M) * K), B(std::size_t(K) * N);
  std::mt19937 g(1);
  std::uniform_real_distribution<float> u(0, 1);
  for (auto& v : A) v = u(g);
  for (auto& v : B) v = u(g);
  float* P = static_cast<float*>(std::aligned_alloc(64, sizeof(float) * K * N));
  for (int p = 0; p < N / 16; ++p)
    for (int k = 0; k < K; ++k) std::memcpy(P + (std::size_t(p) * K + k) * 16, B.data() + std::size_t(k) * N + p * 16, 64);
  std::vector<std::vector<float>> C(3, std::vector<float>(std::size_t(M) * N));
  auto run = [&](int way) {
    float* c = C[way].data();
    for (int half = 0; half < 2; ++half) {  // two row blocks of 5, as AVX2 cuts a 10-row chunk
      const float* a = A.data() + std::size_t(half) * 5 * K;
      float* ch = c + std::size_t(half) * 5 * N;
      if (way == 0) {
        for (int j0 = 0; j0 < N; j0 += 64) block<5>(std::min(64, N - j0), K, a, K, B.data() + j0, N, ch + j0, N);
      } else if (way == 1) {
        block<5>(N, K, a, K, B.data(), N, ch, N);
      } else {
        block_packed<5>(N, K, a, K, P, ch, N);
      }
    }
  };
  auto gflops = [&](int way) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < kReps; ++r) run(way);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 2.0 * M * K * N * kReps / s / 1e9;
  };
  std::printf("%8s %8s %8s  (GFLOP/s, rounds interleaved)\n", "panel", "whole", "packed");
  for (int r = 0; r < 7; ++r) {
    const double p = gflops(0), w = gflops(1), k = gflops(2);
    std::printf("%8.1f %8.1f %8.1f\n", p, w, k);
  }
  const bool same = C[0] == C[1] && C[0] == C[2];
  std::printf("same bits: %s\n", same ? "yes" : "NO");
  std::free(P);
  return same ? 0 : 1;
}
