// The narrow output-layer loops against the sgemm calls (and blend) they replace, for any row count
// (full and partial groups of four rows), widths that are not multiples of 16, and output
// layers of 1 to 16 units; and NarrowTop switching itself off above 16 units.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
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

template <typename T>
void check_against_gemm(double tolerance) {
  std::mt19937_64 g(13);
  for (int m : {1, 10, 16}) {
    for (int n : {7, 500}) {
      for (int rows : {1, 3, 4, 10, 11}) {
        CAPTURE(m);
        CAPTURE(n);
        CAPTURE(rows);
        eqprop::NetworkT<T> net;
        set_sizes(net, 5, n, m);
        net.W.resize(3);
  net.W[1] = uniform<T>(std::size_t(5) * n, g, -1, 1);
  net.W[2] = uniform<T>(std::size_t(n) * m, g, -0.5, 0.5);
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
        eqprop::narrow_up(rows, n, m, h.data(), top.padded.data(), got.data());
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
          eqprop::narrow_down_blend(rows, n, m, hL.data(), top.wt.data(), from_drive ? drive.data() : nullptr,
                                    h_old.data(), keep, eps, have.data());
          CHECK(test::max_diff(want, have) <= tolerance);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("narrow loops equal sgemm (float)") { check_against_gemm<float>(2e-4); }

TEST_CASE("narrow loops equal dgemm (double)") { check_against_gemm<double>(1e-12); }

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
