// engine/minibatch's relax_phase: which scheme each phase takes. With --relax alternating and
// --relax-nudged sync, a free phase is the alternating sweeps and a nudged phase the paper's
// damped synchronous steps, bit for bit.
#include <doctest/doctest.h>

#include <random>

#include "eqprop/engine/minibatch.hpp"
#include "eqprop/ep/alternating.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/layer_kind.hpp"

namespace {

struct Setup {
  std::vector<int> sizes{12, 9, 7, 4};
  int rows = 5;
  eqprop::Network net;
  std::vector<float> drive1;
  std::vector<eqprop::Label> y;
  eqprop::LayerStates<float> start;
};

Setup make() {
  Setup s;
  std::mt19937_64 g(11);
  std::uniform_real_distribution<float> u(0.f, 1.f), w(-0.6f, 0.6f);
  s.net.sizes = s.sizes;
  s.net.W.resize(s.sizes.size());
  s.net.b.resize(s.sizes.size());
  for (std::size_t k = 0; k < s.sizes.size(); ++k) {
    s.net.b[k].resize(s.sizes[k]);
    for (auto& v : s.net.b[k]) v = w(g) * 0.3f;
    if (k == 0) continue;
    s.net.W[k].resize(std::size_t(s.sizes[k - 1]) * s.sizes[k]);
    for (auto& v : s.net.W[k]) v = w(g);
  }
  s.drive1.resize(std::size_t(s.rows) * s.sizes[1]);
  for (auto& v : s.drive1) v = w(g) * 2.f;
  for (int i = 0; i < s.rows; ++i) s.y.push_back(static_cast<eqprop::Label>(i % s.sizes.back()));
  s.start = eqprop::LayerStates<float>(s.sizes, s.rows);
  for (std::size_t k = 1; k < s.sizes.size(); ++k)
    for (auto& v : s.start.h[k]) v = u(g);
  return s;
}

// The states after one relax_phase from s.start under cfg; *done: its return value.
eqprop::LayerStates<float> phase(const Setup& s, const eqprop::Config& cfg, int steps, float beta, bool nudged,
                                 int* done) {
  const eqprop::Layers<float> layers(s.net);
  eqprop::Workspace ws(s.sizes, s.rows);
  ws.cur = s.start;
  *done = eqprop::relax_phase(s.net, layers, cfg, s.drive1.data(), ws, s.rows, steps, beta,
                              nudged ? s.y.data() : nullptr);
  return ws.cur;
}

}  // namespace

TEST_CASE("relax-nudged sync: alternating free phases, the paper's synchronous nudged steps") {
  const Setup s = make();
  eqprop::Config sync, alt, mixed;
  sync.relax = eqprop::RelaxScheme::Sync;
  alt.relax = eqprop::RelaxScheme::Alternating;
  mixed.relax = eqprop::RelaxScheme::Alternating;
  mixed.relax_nudged = eqprop::NudgedRelax::Sync;
  int d1 = 0, d2 = 0, d3 = 0;
  for (const float beta : {0.8f, -0.8f}) {
    CAPTURE(beta);
    // Nudged phase: the mixed scheme is the synchronous one, bit for bit, and not the alternating one.
    const auto a = phase(s, mixed, 6, beta, true, &d1);
    const auto b = phase(s, sync, 6, beta, true, &d2);
    const auto c = phase(s, alt, 6, beta, true, &d3);
    CHECK(a.h == b.h);
    CHECK(a.h != c.h);
    CHECK(d1 == 6);
  }
  // Free phase: the mixed scheme is the alternating one.
  const auto a = phase(s, mixed, 9, 0.f, false, &d1);
  const auto b = phase(s, alt, 9, 0.f, false, &d2);
  const auto c = phase(s, sync, 9, 0.f, false, &d3);
  CHECK(a.h == b.h);
  CHECK(a.h != c.h);
  // With a tolerance the synchronous nudged phase stops early, as it does under --relax sync.
  mixed.tol = sync.tol = 1e-2f;
  const auto e = phase(s, mixed, 200, 0.8f, true, &d1);
  const auto f = phase(s, sync, 200, 0.8f, true, &d2);
  CHECK(e.h == f.h);
  CHECK(d1 == d2);
  CHECK(d1 < 200);
}
