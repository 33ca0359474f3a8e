// The skinny product loops: every element the exact chain of std::fma over k in order (so the
// AVX-512 and AVX2 paths agree to the bit, on any row count and column tail), close to sgemm
// and to double precision; strided operands; and a deep net relaxed with them (the trainer's
// layers) against the readable reference's sgemm layers.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/skinny_gemm.hpp"

namespace {

std::vector<float> uniform(std::size_t count, std::mt19937_64& g, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<float> v(count);
  for (auto& x : v) x = static_cast<float>(u(g));
  return v;
}

// The definition: C[i][j] = fma(A[i][K-1], B[K-1][j], ... fma(A[i][0], B[0][j], C0[i][j])).
void fma_chain(int rows, int n, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc, bool acc) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < n; ++j) {
      float c = acc ? C[i * ldc + j] : 0.f;
      for (int k = 0; k < K; ++k) c = std::fma(A[i * lda + k], B[k * ldb + j], c);
      C[i * ldc + j] = c;
    }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("skinny_gemm is the fma chain on every path, any rows and column tail, strided") {
  using eqprop::SkinnyPath;
  std::mt19937_64 g(7);
  int paths_run = 0;
  for (SkinnyPath path : {SkinnyPath::Avx2, SkinnyPath::Avx512}) {
    if (!eqprop::skinny_path_available(path)) continue;
    ++paths_run;
    for (int rows : {1, 5, 6, 7, 10, 12, 13, 20, 32, 250}) {
      // With K = 1100 a B of 65 columns or more is over 256 KB and goes in panels of 64: the
      // panels' edges (64, 65, 129) in both regimes.
      for (int n : {1, 7, 8, 15, 16, 17, 31, 33, 64, 65, 129, 500}) {
        for (int K : {1, 9, 500, 1100}) {
          if (K == 1100 && (rows > 13 || n < 64)) continue;
          if (rows == 250 && n < 500) continue;  // the evaluation chunk: one shape is enough
          for (bool acc : {false, true}) {
            CAPTURE(path == SkinnyPath::Avx2 ? "avx2" : "avx512");
            CAPTURE(rows);
            CAPTURE(n);
            CAPTURE(K);
            CAPTURE(acc);
            // Leading dimensions wider than the operands, so that strides are honoured and
            // nothing outside the rows' n columns is written.
            const int lda = K + 3, ldb = n + 5, ldc = n + 2;
            const auto A = uniform(std::size_t(rows) * lda, g, 0, 1);
            const auto B = uniform(std::size_t(K) * ldb, g, -0.5, 0.5);
            const auto C0 = uniform(std::size_t(rows) * ldc, g, -1, 1);
            auto want = C0, got = C0;
            fma_chain(rows, n, K, A.data(), lda, B.data(), ldb, want.data(), ldc, acc);
            eqprop::skinny_gemm_on(path, rows, n, K, A.data(), lda, B.data(), ldb, got.data(), ldc, acc);
            REQUIRE(same_bits(got, want));
          }
        }
      }
    }
  }
  if (paths_run == 0) MESSAGE("no AVX2+FMA on this CPU: the skinny loops are not used, sgemm is");
  CHECK(eqprop::skinny_available(10) == eqprop::skinny_path_available(SkinnyPath::Avx2));
  CHECK_FALSE(eqprop::skinny_available(0));
}

TEST_CASE("skinny_gemm_packed is the fma chain on B packed in panels, any rows and column tail") {
  if (!eqprop::skinny_path_available(eqprop::SkinnyPath::Avx2)) {
    CHECK_THROWS_AS(eqprop::skinny_gemm_packed(1, 1, 1, nullptr, 1, nullptr, nullptr, 1, false), std::logic_error);
    CHECK_FALSE(eqprop::skinny_packs());
    return;
  }
  std::mt19937_64 g(11);
  for (int rows : {1, 5, 6, 7, 10, 13, 250}) {
    for (int n : {1, 8, 15, 16, 17, 31, 33, 500}) {
      for (int K : {1, 9, 500}) {
        if (rows == 250 && n < 500) continue;
        for (bool acc : {false, true}) {
          CAPTURE(rows);
          CAPTURE(n);
          CAPTURE(K);
          CAPTURE(acc);
          const int lda = K + 3, ldb = n + 5, ldc = n + 2;
          const auto A = uniform(std::size_t(rows) * lda, g, 0, 1);
          const auto B = uniform(std::size_t(K) * ldb, g, -0.5, 0.5);
          const auto C0 = uniform(std::size_t(rows) * ldc, g, -1, 1);
          // Poisoned first: the pack must write every slot, its padding as 0.
          std::vector<float> P(eqprop::packed_floats(K, n), NAN);
          eqprop::pack_panels(K, n, B.data(), ldb, P.data());
          CHECK(std::none_of(P.begin(), P.end(), [](float v) { return std::isnan(v); }));
          auto want = C0, got = C0;
          fma_chain(rows, n, K, A.data(), lda, B.data(), ldb, want.data(), ldc, acc);
          eqprop::skinny_gemm_packed(rows, n, K, A.data(), lda, P.data(), got.data(), ldc, acc);
          REQUIRE(same_bits(got, want));
        }
      }
    }
  }
  CHECK_THROWS_AS(eqprop::skinny_gemm_packed(0, 1, 1, nullptr, 1, nullptr, nullptr, 1, false), std::logic_error);
}

TEST_CASE("skinny_gemm agrees with sgemm and with double precision to rounding") {
  if (!eqprop::skinny_available(10)) return;
  std::mt19937_64 g(11);
  const int rows = 10, n = 500, K = 500;
  const auto A = uniform(std::size_t(rows) * K, g, 0, 1);
  const auto B = uniform(std::size_t(K) * n, g, -0.1, 0.1);
  const auto C0 = uniform(std::size_t(rows) * n, g, -1, 1);
  auto ours = C0, blas = C0;
  eqprop::skinny_gemm(rows, n, K, A.data(), K, B.data(), n, ours.data(), n, true);
  eqprop::gemm(eqprop::Trans::No, eqprop::Trans::No, rows, n, K, 1.f, A.data(), K, B.data(), n, 1.f, blas.data(), n);
  double worst_blas = 0, worst_exact = 0;
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < n; ++j) {
      double exact = C0[i * n + j];
      for (int k = 0; k < K; ++k) exact += double(A[i * K + k]) * B[k * n + j];
      worst_exact = std::max(worst_exact, std::abs(ours[i * n + j] - exact));
      worst_blas = std::max(worst_blas, double(std::abs(ours[i * n + j] - blas[i * n + j])));
    }
  // Sums of 500 terms of size <= 0.1 in float: rounding of order 1e-6 each way.
  CHECK(worst_exact < 2e-5);
  CHECK(worst_blas < 4e-5);
  CHECK(worst_blas > 0);  // a different order of sums: the bits are not sgemm's
}

TEST_CASE("transpose") {
  std::mt19937_64 g(3);
  for (int rows : {1, 31, 33, 70}) {
    for (int cols : {1, 32, 45}) {
      const auto src = uniform(std::size_t(rows) * cols, g, -1, 1);
      std::vector<float> dst(src.size());
      eqprop::transpose(rows, cols, src.data(), dst.data());
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) REQUIRE(dst[std::size_t(j) * rows + i] == src[std::size_t(i) * cols + j]);
    }
  }
}
