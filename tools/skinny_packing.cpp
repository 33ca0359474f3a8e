// Is a packed W worth it for the AVX2 skinny loops? Times the library's two AVX2 paths on a
// 10 x 496 x 496 product (a net2 chunk), rounds interleaved:
//   in place  skinny_gemm_on(SkinnyPath::Avx2, ...): B read where it is (in 64-column panels
//             when it is over 256 KB), a stride of a whole row per k
//   packed    skinny_gemm_packed on B copied once by pack_panels into 16-column panels read
//             contiguously (the copy is not timed: the engine makes it once per minibatch)
// and checks that the two give the same bits. Build against the library and run (one core,
// quiet machine; needs a CPU with AVX2 and FMA):
//   g++ -O3 -std=c++17 -Iinclude tools/skinny_packing.cpp build/libeqprop.a -o /tmp/skinny_packing
//   taskset -c 1 /tmp/skinny_packing
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "eqprop/kernels/skinny_gemm.hpp"

int main() {
  using eqprop::SkinnyPath;
  if (!eqprop::skinny_path_available(SkinnyPath::Avx2)) {
    std::fprintf(stderr, "skinny_packing: this CPU has no AVX2 and FMA\n");
    return 2;
  }
  constexpr int M = 10, K = 496, N = 496, kReps = 400;
  std::vector<float> A(std::size_t(M) * K), B(std::size_t(K) * N);
  std::mt19937 g(1);
  std::uniform_real_distribution<float> u(0, 1);
  for (auto& v : A) v = u(g);
  for (auto& v : B) v = u(g);
  std::vector<float> P(eqprop::packed_floats(K, N));
  eqprop::pack_panels(K, N, B.data(), N, P.data());
  std::vector<std::vector<float>> C(2, std::vector<float>(std::size_t(M) * N));
  auto gflops = [&](int way) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < kReps; ++r) {
      if (way == 0) {
        eqprop::skinny_gemm_on(SkinnyPath::Avx2, M, N, K, A.data(), K, B.data(), N, C[0].data(), N, false);
      } else {
        eqprop::skinny_gemm_packed(M, N, K, A.data(), K, P.data(), C[1].data(), N, false);
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return 2.0 * M * K * N * kReps / s / 1e9;
  };
  std::printf("%9s %9s  (GFLOP/s, rounds interleaved)\n", "in place", "packed");
  for (int r = 0; r < 7; ++r) {
    const double a = gflops(0), b = gflops(1);
    std::printf("%9.1f %9.1f\n", a, b);
  }
  const bool same = C[0] == C[1];
  std::printf("same bits: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
