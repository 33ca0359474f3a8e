// The EP theorem (Scellier & Bengio 2017, Theorem 1) on a tiny network in double precision:
// the library's symmetric EP update with a small beta equals minus the gradient of the
// equilibrium cost J(theta) = mean_batch C(h*(theta)), computed independently by central
// finite differences of J over every weight and bias.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eqprop/ep/alternating.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"
#include "eqprop/ep/update.hpp"
#include "helpers.hpp"

using test::Net;

namespace {

constexpr int kRows = 3;
const std::vector<int> kSizes{6, 5, 4, 3};

struct Batch {
  std::vector<double> x;  // [kRows x 6]
  std::vector<eqprop::Label> y;
};

// Relaxes from zero (or start) until no state moves by more than 1e-15 (or a step cap), with
// the synchronous eps = 0.5 step or alternating sweeps.
eqprop::LayerStates<double> equilibrium(const Net& net, const Batch& b, double beta, bool alternating,
                                        const eqprop::LayerStates<double>* start = nullptr) {
  eqprop::LayerStates<double> cur(net.sizes, kRows), nxt(net.sizes, kRows);
  if (start) cur = *start;
  std::vector<double> drive1(std::size_t(kRows) * net.sizes[1]);
  eqprop::clamped_drive(net, b.x.data(), kRows, drive1.data());
  if (alternating) {
    eqprop::relax_alternating(net, drive1.data(), cur, nxt, kRows, 100000, beta, b.y.data(), 1e-15);
    return cur;
  }
  for (int it = 0; it < 100000; ++it) {
    const auto before = cur.h;
    eqprop::relax(net, drive1.data(), cur, nxt, kRows, 1, 0.5, beta, b.y.data());
    double moved = 0;
    for (std::size_t k = 1; k < before.size(); ++k)
      for (std::size_t j = 0; j < before[k].size(); ++j) moved = std::max(moved, std::abs(before[k][j] - cur.h[k][j]));
    if (moved < 1e-15) break;
  }
  return cur;
}

double equilibrium_cost(const Net& net, const Batch& b, bool alternating) {
  const auto s = equilibrium(net, b, 0.0, alternating);
  const int L = net.layers();
  double J = 0;
  for (int i = 0; i < kRows; ++i)
    for (int j = 0; j < net.sizes[L]; ++j) {
      const double d = s.row(L, i)[j] - (j == b.y[i] ? 1.0 : 0.0);
      J += d * d;
    }
  return J / kRows;
}

void check_theorem(bool alternating) {
  // Moderate weights and biases keep most units strictly inside (0,1).
  const Net net = test::random_net(kSizes, 42, 0.5, -0.1, 0.4);
  std::mt19937_64 g(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Batch b;
  b.x.resize(kRows * kSizes[0]);
  for (auto& v : b.x) v = u(g);
  b.y = {0, 2, 1};

  const double beta = 1e-4;
  const auto free_state = equilibrium(net, b, 0.0, alternating);
  const auto plus = equilibrium(net, b, beta, alternating, &free_state);
  const auto minus = equilibrium(net, b, -beta, alternating, &free_state);
  Net updated = net;
  std::vector<double> diff(std::size_t(kRows) * kSizes[1]);
  const std::vector<double> alphas(net.layers(), 1.0);
  eqprop::layer1_difference(plus, minus, 0, kRows, diff.data());
  eqprop::SparseInput<double> input;
  input.assign(b.x.data(), kRows, kSizes[0]);
  eqprop::ep_update(updated, eqprop::update_blocks(net.sizes), input, plus, minus, kRows, alphas, 2 * beta,
                    diff.data());

  const double delta = 1e-5;
  Net probe = net;  // the finite differences perturb one parameter of this copy at a time
  double worst = 0, largest = 0;
  int interior = 0;
  auto compare = [&](double& param, double ep_step) {
    const double keep = param;
    param = keep + delta;
    const double jp = equilibrium_cost(probe, b, alternating);
    param = keep - delta;
    const double jm = equilibrium_cost(probe, b, alternating);
    param = keep;
    const double grad = (jp - jm) / (2 * delta);
    worst = std::max(worst, std::abs(ep_step + grad));
    largest = std::max(largest, std::abs(grad));
  };
  for (int k = 1; k <= net.layers(); ++k) {
    for (std::size_t i = 0; i < net.W[k].size(); ++i) compare(probe.W[k][i], updated.W[k][i] - net.W[k][i]);
    for (std::size_t j = 0; j < net.b[k].size(); ++j) compare(probe.b[k][j], updated.b[k][j] - net.b[k][j]);
  }
  for (int k = 1; k <= net.layers(); ++k)
    for (double v : free_state.h[k]) interior += (v > 0 && v < 1);
  MESSAGE("max |EP - (-dJ/dtheta)| = " << worst << " (largest |dJ/dtheta| = " << largest << ", "
                                       << interior << " of " << kRows * 12 << " units strictly inside (0,1))");
  CHECK(largest > 1e-2);  // the gradient is not trivially zero
  CHECK(interior > kRows * 6);
  CHECK(worst < 1e-6);
}

}  // namespace

TEST_CASE("symmetric EP update with small beta equals -dJ/dtheta at the free fixed point") { check_theorem(false); }

TEST_CASE("the same with alternating relaxation (exact layer minima, odd then even layers)") { check_theorem(true); }
