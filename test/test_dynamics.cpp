// The state dynamics: the analytic gradient against finite differences of F, the library's
// relax() against the naive reference step by step, and descent and convergence of E.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"
#include "helpers.hpp"

using test::Net;
using test::State;

namespace {

State random_state(const Net& net, std::mt19937_64& g, double lo, double hi) {
  std::uniform_real_distribution<double> u(lo, hi);
  State s(net.sizes.size());
  for (std::size_t k = 0; k < net.sizes.size(); ++k) {
    s[k].resize(net.sizes[k]);
    for (auto& v : s[k]) v = u(g);
  }
  return s;
}

// Copies rows of reference states (one State per sample) into library buffers and back.
template <typename T>
void load(const std::vector<State>& ss, eqprop::LayerStates<T>& ls) {
  for (std::size_t i = 0; i < ss.size(); ++i)
    for (std::size_t k = 1; k < ss[i].size(); ++k)
      for (std::size_t j = 0; j < ss[i][k].size(); ++j) ls.row(int(k), int(i))[j] = static_cast<T>(ss[i][k][j]);
}

template <typename T>
eqprop::NetworkT<T> cast_net(const Net& n) {
  eqprop::NetworkT<T> o;
  o.sizes = n.sizes;
  for (const auto& w : n.W) o.W.emplace_back(w.begin(), w.end());
  for (const auto& b : n.b) o.b.emplace_back(b.begin(), b.end());
  return o;
}

// Runs `steps` of the library's relax and of the reference, and returns the largest difference.
// narrow: the products with the output layer's weights go through narrow_layer.hpp's loops.
template <typename T>
double relax_vs_reference(int steps, double beta, bool narrow = false,
                          const std::vector<int>& sizes = std::vector<int>{12, 9, 7, 4}) {
  const Net net = test::random_net(sizes, 7, 0.5, -0.2, 0.4);
  const auto tnet = cast_net<T>(net);
  std::mt19937_64 g(3);
  const int rows = 5;
  std::vector<State> ref;
  std::vector<T> x(std::size_t(rows) * sizes[0]);
  std::vector<eqprop::Label> labels(rows);
  for (int i = 0; i < rows; ++i) {
    ref.push_back(random_state(net, g, 0.0, 1.0));
    if (i == 0)  // exact boundary values, where an exclusive rho' would freeze a unit
      for (std::size_t k = 1; k < ref[0].size(); ++k) ref[0][k].assign(ref[0][k].size(), k % 2 ? 0.0 : 1.0);
    labels[i] = static_cast<eqprop::Label>(i % sizes.back());
    for (int j = 0; j < sizes[0]; ++j) x[std::size_t(i) * sizes[0] + j] = static_cast<T>(ref[i][0][j]);
  }
  eqprop::LayerStates<T> cur(sizes, rows), nxt(sizes, rows);
  load(ref, cur);
  std::vector<T> drive1(std::size_t(rows) * sizes[1]);
  eqprop::clamped_drive(tnet, x.data(), rows, drive1.data());
  eqprop::NarrowTop<T> top;
  test::refresh_top(top, tnet);
  REQUIRE(top.active());  // every output layer here is narrow
  const eqprop::Layers<T> layers(tnet, /*fast=*/true);  // the output layer's products in the narrow loops
  eqprop::relax(tnet, drive1.data(), cur, nxt, rows, steps, T(0.5), T(beta), labels.data(), narrow ? &layers : nullptr);
  double worst = 0;
  for (int i = 0; i < rows; ++i) {
    State s = ref[i];
    for (int t = 0; t < steps; ++t) s = test::ref_step(net, s, 0.5, beta, labels[i]);
    for (std::size_t k = 1; k < s.size(); ++k)
      for (std::size_t j = 0; j < s[k].size(); ++j) worst = std::max(worst, std::abs(s[k][j] - double(cur.row(int(k), i)[j])));
  }
  return worst;
}

}  // namespace

TEST_CASE("analytic dF/dh equals a central finite difference of F (double, states inside (0,1))") {
  const Net net = test::random_net({10, 8, 6, 4}, 11, 0.6, -0.3, 0.3);
  std::mt19937_64 g(5);
  for (double beta : {0.0, 0.7}) {
    const State s = random_state(net, g, 0.05, 0.95);
    const State grad = test::ref_grad(net, s, beta, 2);
    double worst = 0;
    const double h = 1e-6;
    for (std::size_t k = 1; k < s.size(); ++k) {
      for (std::size_t j = 0; j < s[k].size(); ++j) {
        State p = s, m = s;
        p[k][j] += h;
        m[k][j] -= h;
        const double fd = (test::ref_F(net, p, beta, 2) - test::ref_F(net, m, beta, 2)) / (2 * h);
        worst = std::max(worst, std::abs(fd - grad[k][j]));
      }
    }
    MESSAGE("beta " << beta << ": max |analytic - finite difference| = " << worst);
    CHECK(worst < 1e-7);
  }
}

TEST_CASE("relax() matches the naive reference step by step") {
  for (double beta : {0.0, 0.5, -0.5}) {
    CAPTURE(beta);
    for (int steps : {1, 2, 7}) {
      CAPTURE(steps);
      CHECK(relax_vs_reference<double>(steps, beta) < 1e-12);
      CHECK(relax_vs_reference<float>(steps, beta) < 2e-5);
    }
  }
}

TEST_CASE("relax() with the narrow output-layer loops matches the naive reference") {
  for (const auto& sizes : {std::vector<int>{12, 9, 7, 4}, std::vector<int>{40, 37, 10}, std::vector<int>{9, 70, 16}}) {
    CAPTURE(sizes.size());
    CAPTURE(sizes.back());
    for (double beta : {0.0, 0.5}) {
      CAPTURE(beta);
      CHECK(relax_vs_reference<double>(7, beta, true, sizes) < 1e-12);
      CHECK(relax_vs_reference<float>(7, beta, true, sizes) < 2e-5);
    }
  }
}

TEST_CASE("states that start at exactly 0 move (rho' is 1 on the closed interval)") {
  const Net net = test::random_net({6, 5, 3}, 1, 0.5, 0.2, 0.5);  // positive biases push units up
  eqprop::LayerStates<double> cur(net.sizes, 1), nxt(net.sizes, 1);
  std::vector<double> x(6, 0.5), drive1(5);
  eqprop::clamped_drive(net, x.data(), 1, drive1.data());
  eqprop::relax(net, drive1.data(), cur, nxt, 1, 1, 0.5, 0.0, nullptr);
  double moved = 0;
  for (int k = 1; k <= 2; ++k)
    for (double v : cur.h[k]) moved += v;
  CHECK(moved > 0.1);
}

TEST_CASE("with a small eps the free phase lowers E at every step and converges") {
  const Net net = test::random_net({20, 15, 10, 5}, 21, 0.4, -0.2, 0.5);
  std::mt19937_64 g(9);
  State s = random_state(net, g, 0.0, 1.0);
  eqprop::LayerStates<double> cur(net.sizes, 1), nxt(net.sizes, 1);
  for (std::size_t k = 1; k < s.size(); ++k) std::copy(s[k].begin(), s[k].end(), cur.h[k].begin());
  std::vector<double> drive1(net.sizes[1]);
  eqprop::clamped_drive(net, s[0].data(), 1, drive1.data());
  auto energy = [&] {
    State t = s;
    for (std::size_t k = 1; k < t.size(); ++k) t[k].assign(cur.h[k].begin(), cur.h[k].end());
    return test::ref_F(net, t, 0.0, 0);
  };
  double E = energy();
  double last_step = 1;
  bool monotone = true;
  for (int t = 0; t < 3000 && last_step > 1e-12; ++t) {
    const eqprop::LayerStates<double> before = cur;
    eqprop::relax(net, drive1.data(), cur, nxt, 1, 1, 0.1, 0.0, nullptr);
    const double E2 = energy();
    if (E2 > E + 1e-12) monotone = false;
    E = E2;
    last_step = 0;
    for (std::size_t k = 1; k < s.size(); ++k)
      for (std::size_t j = 0; j < cur.h[k].size(); ++j) last_step = std::max(last_step, std::abs(cur.h[k][j] - before.h[k][j]));
  }
  CHECK(monotone);
  CHECK(last_step <= 1e-12);
}

TEST_CASE("the layer-kind registry makes dense and conv layers and names an unknown kind") {
  const eqprop::NetworkT<float> net = [] {
    eqprop::Rng rng(3);
    return eqprop::glorot_network<float>({12, 7, 5}, rng);
  }();
  const auto dense = eqprop::make_layer_kind<float>("dense", net, 2, true);
  CHECK(dense->name() == "dense");
  CHECK_THROWS_WITH_AS(eqprop::make_layer_kind<float>("lstm", net, 1, true), "unknown layer kind 'lstm'",
                       std::invalid_argument);
  // The kind's bottom-up product is h W_2 (bias excluded), the narrow loops or sgemm alike.
  eqprop::Layers<float> fast(net, true), plain(net, false);
  std::vector<float> h(2 * 7), a(2 * 5, 0.f), b(2 * 5, 0.f);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = float(i % 5) / 4.f;
  eqprop::KindScratch<float> none;
  fast[2].up(net, 2, h.data(), a.data(), none);
  plain[2].up(net, 2, h.data(), b.data(), none);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 5; ++j) {
      double want = 0;
      for (int k = 0; k < 7; ++k) want += double(h[i * 7 + k]) * net.W[2][k * 5 + j];
      CHECK(a[i * 5 + j] == doctest::Approx(want).epsilon(1e-5));
      CHECK(b[i * 5 + j] == doctest::Approx(want).epsilon(1e-5));
    }
}
