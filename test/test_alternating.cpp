// Alternating relaxation (ep/alternating.hpp): the same fixed point as the synchronous
// dynamics, F = E + beta C never rising over a half-sweep, and the output update the exact
// minimiser, for either sign of beta.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eqprop/ep/alternating.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"
#include "helpers.hpp"

using test::Net;
using test::State;

namespace {

struct Setup {
  Net net;
  eqprop::NetworkT<double> tnet;
  int rows = 6;
  std::vector<State> x;  // x[i][0]: example i's input
  std::vector<double> xs, drive1;
  std::vector<eqprop::Label> labels;
};

Setup make(const std::vector<int>& sizes, std::uint64_t seed, double w_scale) {
  Setup s;
  s.net = test::random_net(sizes, seed, w_scale, -0.2, 0.4);
  s.tnet.sizes = s.net.sizes;
  s.tnet.W = s.net.W;
  s.tnet.b = s.net.b;
  std::mt19937_64 g(seed + 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  s.xs.resize(std::size_t(s.rows) * sizes[0]);
  for (auto& v : s.xs) v = u(g) < 0.4 ? 0.0 : u(g);
  for (int i = 0; i < s.rows; ++i) s.labels.push_back(static_cast<eqprop::Label>(i % sizes.back()));
  s.drive1.resize(std::size_t(s.rows) * sizes[1]);
  eqprop::clamped_drive(s.tnet, s.xs.data(), s.rows, s.drive1.data());
  return s;
}

State state_of(const Setup& s, const eqprop::LayerStates<double>& ls, int i) {
  State st(s.net.sizes.size());
  st[0].assign(s.xs.begin() + std::ptrdiff_t(i) * s.net.sizes[0], s.xs.begin() + std::ptrdiff_t(i + 1) * s.net.sizes[0]);
  for (std::size_t k = 1; k < st.size(); ++k) st[k].assign(ls.row(int(k), i), ls.row(int(k), i) + s.net.sizes[k]);
  return st;
}

double max_difference(const eqprop::LayerStates<double>& a, const eqprop::LayerStates<double>& b) {
  double worst = 0;
  for (std::size_t k = 1; k < a.h.size(); ++k)
    for (std::size_t j = 0; j < a.h[k].size(); ++j) worst = std::max(worst, std::abs(a.h[k][j] - b.h[k][j]));
  return worst;
}

}  // namespace

TEST_CASE("output_minimum is the exact minimiser of 1/2 h^2 - d h + beta (h - y)^2 on [0, 1]") {
  for (double beta : {0.0, 0.1, 0.5, 1.0, -0.2, -0.5, -0.7, -1.0, -3.0})
    for (double y : {0.0, 1.0})
      for (double d = -2.0; d <= 3.0; d += 0.05) {
        const auto f = [&](double h) { return 0.5 * h * h - d * h + beta * (h - y) * (h - y); };
        const double h = eqprop::output_minimum(d, beta, y);
        CAPTURE(beta);
        CAPTURE(y);
        CAPTURE(d);
        REQUIRE(h >= 0.0);
        REQUIRE(h <= 1.0);
        for (int g = 0; g <= 1000; ++g) REQUIRE(f(h) <= f(g / 1000.0) + 1e-12);
      }
}

TEST_CASE("alternating and synchronous relaxation reach the same fixed point, free and nudged") {
  // Where F has one minimum (weights of this scale, 1 + 2 beta > 0) both schemes find it. With
  // larger weights, or beta <= -1/2 (F concave in the output), F can have several minima and
  // the schemes may end on different ones. Every end point of the alternating scheme is a
  // fixed point of the synchronous one; the reverse holds while 1 + 2 beta > 0 (for beta <=
  // -1/2 the synchronous step can rest on an end point that is only a local minimum of the
  // output's concave part, where the exact update jumps to the other end).
  for (const auto& sizes : {std::vector<int>{12, 9, 5}, std::vector<int>{12, 9, 7, 4}, std::vector<int>{12, 9, 8, 7, 4}})
    for (double beta : {0.0, 0.5, -0.2, -0.5, -1.0}) {
      CAPTURE(sizes.size());
      CAPTURE(beta);
      const bool unique = beta > -0.5;
      const Setup s = make(sizes, 11 + sizes.size(), 0.3);
      eqprop::LayerStates<double> sync(sizes, s.rows), alt(sizes, s.rows), scratch(sizes, s.rows);
      eqprop::relax(s.tnet, s.drive1.data(), sync, scratch, s.rows, 4000, 0.5, beta, s.labels.data());
      const int sweeps = eqprop::relax_alternating(s.tnet, s.drive1.data(), alt, scratch, s.rows, 4000, beta,
                                                   s.labels.data(), 1e-12);
      CHECK(sweeps < 4000);  // converged, not out of sweeps
      if (unique) CHECK(max_difference(sync, alt) <= 1e-6);
      // A fixed point of the synchronous step (docs/design.md: the same fixed points).
      eqprop::LayerStates<double> again = alt;
      eqprop::relax(s.tnet, s.drive1.data(), again, scratch, s.rows, 1, 0.5, beta, s.labels.data());
      CHECK(max_difference(again, alt) <= 1e-9);
      eqprop::LayerStates<double> sync_again = sync;
      eqprop::relax_alternating(s.tnet, s.drive1.data(), sync_again, scratch, s.rows, 1, beta, s.labels.data(), 0.0);
      if (beta > -0.5) CHECK(max_difference(sync_again, sync) <= 1e-6);
    }
}

TEST_CASE("F = E + beta C never rises over a half-sweep, and tol stops a phase early") {
  for (double beta : {0.0, 1.0, -1.0}) {
    const std::vector<int> sizes{12, 9, 8, 7, 4};
    const Setup s = make(sizes, 5, 1.0);  // larger weights: a rougher landscape
    eqprop::LayerStates<double> cur(sizes, s.rows), scratch(sizes, s.rows);
    std::mt19937_64 g(9);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t k = 1; k < cur.h.size(); ++k)
      for (auto& v : cur.h[k]) v = u(g);
    const auto total = [&] {
      double f = 0;
      for (int i = 0; i < s.rows; ++i) f += eqprop::reference::total_energy(s.net, state_of(s, cur, i), beta, s.labels[i]);
      return f;
    };
    double before = total();
    for (int half = 0; half < 40; ++half) {
      eqprop::alternating_half_sweep(s.tnet, s.drive1.data(), cur, scratch, s.rows, half % 2 == 0 ? 1 : 0, beta,
                                     s.labels.data());
      const double after = total();
      CAPTURE(beta);
      CAPTURE(half);
      CHECK(after <= before + 1e-12 * std::max(1.0, std::abs(before)));
      before = after;
    }
  }
  const Setup s = make({12, 9, 7, 4}, 3, 0.5);
  eqprop::LayerStates<double> a({12, 9, 7, 4}, s.rows), scratch({12, 9, 7, 4}, s.rows);
  const int loose = eqprop::relax_alternating(s.tnet, s.drive1.data(), a, scratch, s.rows, 500, 0.0, s.labels.data(), 1e-2);
  eqprop::LayerStates<double> b({12, 9, 7, 4}, s.rows);
  const int tight = eqprop::relax_alternating(s.tnet, s.drive1.data(), b, scratch, s.rows, 500, 0.0, s.labels.data(), 1e-8);
  CHECK(loose >= 1);
  CHECK(loose < tight);
  CHECK(tight < 500);
  CHECK(eqprop::relax_alternating(s.tnet, s.drive1.data(), b, scratch, s.rows, 7, 0.0, s.labels.data(), 0.0) == 7);
}
