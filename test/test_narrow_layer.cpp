// The narrow output-layer loops against the sgemm calls (and blend) they replace, in every vector
// path the CPU has, for any row count (full and partial groups of four rows), widths that are
// not multiples of 16, and output layers of 1 to 16 units; the FMA paths' bits against each
// other and against std::fma chains; and NarrowTop switching itself off above 16 units.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/narrow_layer.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "helpers.hpp"

namespace {

template <typename T>
std::vector<T> uniform(std::size_t count, std::mt19937_64& g, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(count);
  for (auto& x : v) x = static_cast<T>(u(g));
  return v;
}

// Sizes set element by element: assigning a braced list here trips GCC 12's -Wnonnull.
template <typename T>
void set_sizes(eqprop::NetworkT<T>& net, int n0, int n1, int n2) {
  net.sizes.resize(3);
  net.sizes[0] = n0;
  net.sizes[1] = n1;
  net.sizes[2] = n2;
}

// An n0-n-m network with W_1 in [-1, 1] and W_2 in [-0.5, 0.5].
template <typename T>
eqprop::NetworkT<T> random_net(int n0, int n, int m, std::mt19937_64& g) {
  eqprop::NetworkT<T> net;
  set_sizes(net, n0, n, m);
  net.W.resize(3);
  net.W[1] = uniform<T>(std::size_t(n0) * n, g, -1, 1);
  net.W[2] = uniform<T>(std::size_t(n) * m, g, -0.5, 0.5);
  return net;
}

// The vector paths this CPU can run (the baseline always).
std::vector<eqprop::NarrowPath> paths_here() {
  std::vector<eqprop::NarrowPath> out;
  for (auto p : {eqprop::NarrowPath::Baseline, eqprop::NarrowPath::Avx2, eqprop::NarrowPath::Avx512})
    if (eqprop::narrow_path_available(p)) out.push_back(p);
  return out;
}

template <typename T>
void check_against_gemm(eqprop::NarrowPath path, double tolerance) {
  CAPTURE(int(path));
  std::mt19937_64 g(13);
  for (int m : {1, 10, 16}) {
    for (int n : {7, 24, 500}) {
      for (int rows : {1, 3, 4, 10, 11}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(rows);
        const auto net = random_net<T>(5, n, m, g);
        eqprop::NarrowTop<T> top;
        test::refresh_top(top, net);
        REQUIRE(top.active());
        const auto h = uniform<T>(std::size_t(rows) * n, g, 0, 1);   // h_{L-1}
        const auto hL = uniform<T>(std::size_t(rows) * m, g, 0, 1);  // h_L

        // Bottom-up, accumulating onto a bias already in place.
        const auto start = uniform<T>(std::size_t(rows) * m, g, -1, 1);
        auto expected = start, got = start;
        eqprop::gemm(eqprop::Trans::No, eqprop::Trans::No, rows, m, n, T(1), h.data(), n, net.W[2].data(), m, T(1),
                     expected.data(), m);
        eqprop::narrow_up_on(path, rows, n, m, h.data(), top.padded.data(), got.data());
        CHECK(test::max_diff(expected, got) <= tolerance);

        // Top-down, fused with the blend: from layer 1's clamped drive, and onto a drive
        // already in d (deeper layers).
        const auto h_old = uniform<T>(std::size_t(rows) * n, g, 0, 1);
        const auto drive = uniform<T>(std::size_t(rows) * n, g, -1, 1);
        for (bool from_drive : {true, false}) {
          const auto d0 = uniform<T>(std::size_t(rows) * n, g, -1, 1);
          auto want = from_drive ? drive : d0, have = d0;
          eqprop::gemm(eqprop::Trans::No, eqprop::Trans::Yes, rows, n, m, T(1), hL.data(), m, net.W[2].data(), m, T(1),
                       want.data(), n);
          const T keep = T(0.5), eps = T(0.5);
          for (std::size_t ij = 0; ij < want.size(); ++ij)
            want[ij] = std::min(T(1), std::max(T(0), keep * h_old[ij] + eps * want[ij]));
          eqprop::narrow_down_blend_on(path, rows, n, m, hL.data(), top.wt.data(),
                                       from_drive ? drive.data() : nullptr, h_old.data(), keep, eps, have.data());
          CHECK(test::max_diff(want, have) <= tolerance);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("narrow loops equal sgemm (float), in every vector path") {
  for (auto path : paths_here()) check_against_gemm<float>(path, 2e-4);
}

TEST_CASE("narrow loops equal dgemm (double), in every vector path") {
  for (auto path : paths_here()) check_against_gemm<double>(path, 1e-12);
}

TEST_CASE("the path in use is the CPU's widest, and unavailable paths are refused") {
  const auto here = paths_here();
  CHECK(eqprop::narrow_path() == here.back());
  if (here.back() != eqprop::NarrowPath::Avx512) {
    float x = 0.f;
    CHECK_THROWS_AS(eqprop::narrow_up_on(eqprop::NarrowPath::Avx512, 1, 1, 1, &x, &x, &x), std::logic_error);
  }
}

// Each FMA path sums out[i][j] as one fused chain over k in order from zero, then adds it to
// out: the AVX2 path (two 8-float vectors per 16 units) and the AVX-512 one (one 16-float
// vector) must give those bits exactly, so that a machine's vector width never changes results.
// The fused blend's bits are compared between the two paths (where the CPU has both), over
// widths whose last units fall in the scalar tail.
TEST_CASE("the FMA paths give the bits of one fused chain per element, and the same bits as each other") {
  std::vector<eqprop::NarrowPath> fma;
  for (auto p : paths_here())
    if (p != eqprop::NarrowPath::Baseline) fma.push_back(p);
  if (fma.empty()) {
    MESSAGE("no FMA path on this CPU: nothing to compare");
    return;
  }
  std::mt19937_64 g(21);
  for (int m : {3, 10, 16}) {
    for (int n : {9, 27, 500}) {
      CAPTURE(m);
      CAPTURE(n);
      const auto net = random_net<float>(2, n, m, g);
      eqprop::NarrowTop<float> top;
      test::refresh_top(top, net);
      const int rows = 6;
      const auto h = uniform<float>(std::size_t(rows) * n, g, 0, 1);
      const auto start = uniform<float>(std::size_t(rows) * m, g, -1, 1);
      auto chain = start;
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < m; ++j) {
          float acc = 0.f;
          for (int k = 0; k < n; ++k) acc = std::fma(h[std::size_t(i) * n + k], net.W[2][std::size_t(k) * m + j], acc);
          chain[std::size_t(i) * m + j] += acc;
        }
      const auto hL = uniform<float>(std::size_t(rows) * m, g, 0, 1);
      const auto h_old = uniform<float>(std::size_t(rows) * n, g, 0, 1);
      const auto drive = uniform<float>(std::size_t(rows) * n, g, -1, 1);
      std::vector<float> first_blend;
      for (auto path : fma) {
        CAPTURE(int(path));
        auto got = start;
        eqprop::narrow_up_on(path, rows, n, m, h.data(), top.padded.data(), got.data());
        CHECK(got == chain);
        std::vector<float> blend(std::size_t(rows) * n, 0.f);
        eqprop::narrow_down_blend_on(path, rows, n, m, hL.data(), top.wt.data(), drive.data(), h_old.data(), 0.5f,
                                     0.5f, blend.data());
        if (first_blend.empty())
          first_blend = blend;
        else
          CHECK(blend == first_blend);
      }
    }
  }
}

TEST_CASE("a row's result does not depend on its place in the chunk") {
  std::mt19937_64 g(2);
  eqprop::NetworkT<float> net;
  set_sizes(net, 3, 500, 10);
  net.W.resize(3);
  net.W[1] = uniform<float>(1500, g, -1, 1);
  net.W[2] = uniform<float>(5000, g, -0.5, 0.5);
  eqprop::NarrowTop<float> top;
  test::refresh_top(top, net);
  const auto h = uniform<float>(std::size_t(9) * 500, g, 0, 1);
  std::vector<float> all(9 * 10, 0.f), alone(10, 0.f);
  eqprop::narrow_up(9, 500, 10, h.data(), top.padded.data(), all.data());  // row 8 is in a partial group
  for (int i : {0, 5, 8}) {
    std::fill(alone.begin(), alone.end(), 0.f);
    eqprop::narrow_up(1, 500, 10, h.data() + std::size_t(i) * 500, top.padded.data(), alone.data());
    CHECK(std::equal(alone.begin(), alone.end(), all.begin() + i * 10));
  }
}

TEST_CASE("NarrowTop is off for output layers wider than 16 units, and follows W_L") {
  std::mt19937_64 g(4);
  eqprop::NetworkT<float> net;
  set_sizes(net, 3, 8, 17);
  net.W.resize(3);
  net.W[1] = uniform<float>(24, g, -1, 1);
  net.W[2] = uniform<float>(8 * 17, g, -1, 1);
  eqprop::NarrowTop<float> top;
  test::refresh_top(top, net);
  CHECK_FALSE(top.active());
  set_sizes(net, 3, 8, 16);
  net.W[2] = uniform<float>(8 * 16, g, -1, 1);
  test::refresh_top(top, net);
  REQUIRE(top.active());
  CHECK(top.wt[3 * 8 + 5] == net.W[2][5 * 16 + 3]);
  CHECK(top.padded[5 * 16 + 3] == net.W[2][5 * 16 + 3]);
}
