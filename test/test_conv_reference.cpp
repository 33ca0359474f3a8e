// The architecture entries and the readable convolutional EP (ep/conv_reference.hpp): the
// operations against their definitions, the drives and parameter gradients against finite
// differences of Phi, and the EP theorem: the centered estimate at a small beta against finite
// differences of the loss at the free fixed point.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eqprop/architecture.hpp"
#include "eqprop/ep/conv_reference.hpp"
#include "eqprop/error.hpp"

namespace ref = eqprop::reference;
using eqprop::LayerSpec;
using eqprop::Shape;

namespace {

std::vector<double> uniform(std::size_t n, std::uint64_t seed, double lo = 0.0, double hi = 1.0) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(g);
  return v;
}
double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}
eqprop::DataFacts facts(int c, int h, int w, int classes) {
  eqprop::DataFacts f;
  f.channels = c;
  f.height = h;
  f.width = w;
  f.classes = classes;
  return f;
}
std::string config_error(const std::string& layers, const eqprop::DataFacts& f = facts(1, 28, 28, 10)) {
  try {
    eqprop::layer_shapes(eqprop::parse_layers(layers), f);
  } catch (const eqprop::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("layer entries: parsed, formatted back, shaped; bad entries refused naming the entry") {
  const auto a = eqprop::parse_layers("conv:32:5:pool2  conv:64:5:pool2 dense:256");
  REQUIRE(a.size() == 3);
  CHECK(a[0] == LayerSpec{eqprop::LayerType::Conv, 32, 5, 0, 2});
  CHECK(a[2] == LayerSpec{eqprop::LayerType::Dense, 256, 0, 0, 1});
  CHECK(eqprop::format_layers(a) == "conv:32:5:pool2 conv:64:5:pool2 dense:256");
  const auto s = eqprop::layer_shapes(a, facts(1, 28, 28, 10));
  REQUIRE(s.size() == 5);
  CHECK(s[1] == Shape{32, 12, 12});
  CHECK(s[2] == Shape{64, 4, 4});
  CHECK(s[3] == Shape{256, 1, 1});
  CHECK(s[4] == Shape{10, 1, 1});
  // Laborieux et al.'s CIFAR-10 net: padding 1, 1, 1, 0.
  const auto c = eqprop::parse_layers("conv:128:3:p1:pool2 conv:256:3:p1:pool2 conv:512:3:p1:pool2 conv:512:3:pool2");
  CHECK(eqprop::parse_layers(eqprop::format_layers(c)) == c);
  const auto cs = eqprop::layer_shapes(c, facts(3, 32, 32, 10));
  CHECK(cs[3] == Shape{512, 4, 4});
  CHECK(cs[4] == Shape{512, 1, 1});
  CHECK(eqprop::layer_shapes(eqprop::parse_layers("conv:4:2:pool2"), facts(1, 7, 7, 2))[1] == Shape{4, 3, 3});
  CHECK(eqprop::format_layers(eqprop::dense_layers({500, 500})) == "dense:500 dense:500");
  struct Case {
    const char* layers;
    const char* expect;
  };
  for (const Case& k : {Case{"conv:32", "'conv:32'"}, Case{"conv:0:5", "channels 0"}, Case{"conv:8:3:pool3", "pool3"},
                        Case{"dense:10 conv:3:3", "cannot follow"}, Case{"conv:8:29", "does not fit"},
                        Case{"conv:8:28:pool2", "leaves nothing"}, Case{"rnn:3", "unknown layer kind 'rnn'"},
                        Case{"conv:8:3:p3", "padding 3"}, Case{"dense:x", "'x'"}, Case{"dense:5:5", "dense:N"},
                        Case{"conv:8:3:p1:p1", "repeated"}, Case{"", "no entries"}, Case{"dense:-3", "'-3'"}}) {
    CAPTURE(k.layers);
    const std::string msg = config_error(k.layers);
    CAPTURE(msg);
    CHECK(msg.find(k.expect) != std::string::npos);
    CHECK(msg.find("layers") != std::string::npos);
  }
}

TEST_CASE("conv2d by hand, and conv2d_transpose its adjoint") {
  // 1x3x3 input, one 2x2 kernel, no padding: out[y][x] = b + sum W[ky][kx] in[y+ky][x+kx].
  const std::vector<double> in{1, 2, 3, 4, 5, 6, 7, 8, 9}, W{1, 0, 0, -1}, b{0.5};
  const LayerSpec s{eqprop::LayerType::Conv, 1, 2, 0, 1};
  CHECK(ref::conv2d(in, Shape{1, 3, 3}, W, &b, s) == std::vector<double>{1 - 5 + 0.5, 2 - 6 + 0.5, 4 - 8 + 0.5, 5 - 9 + 0.5});
  // Padding 1: the corner output sees only in[0][0] under the kernel's last tap.
  const LayerSpec p{eqprop::LayerType::Conv, 1, 2, 1, 1};
  const auto o = ref::conv2d(in, Shape{1, 3, 3}, W, nullptr, p);
  REQUIRE(o.size() == 16);
  CHECK(o[0] == -1.0);  // W[1][1] * in[0][0]
  CHECK(o[15] == 9.0);  // W[0][0] * in[2][2]
  for (int pad = 0; pad <= 2; ++pad) {
    const LayerSpec t{eqprop::LayerType::Conv, 3, 3, pad, 1};
    const Shape is{2, 5, 4};
    const auto x = uniform(is.size(), 1 + pad, -1, 1);
    const auto w = uniform(3 * 2 * 9, 2 + pad, -1, 1);
    const auto y = ref::conv2d(x, is, w, nullptr, t);
    const auto g = uniform(y.size(), 3 + pad, -1, 1);
    CAPTURE(pad);
    CHECK(std::abs(dot(y, g) - dot(x, ref::conv2d_transpose(g, is, w, t))) < 1e-12);
  }
}

TEST_CASE("max-pool: the first maximum in row-major order on ties, odd sizes floored; unpool puts values back") {
  // 1 x 3 x 5: pooled to 1 x 1 x 2 (the last row and column dropped).
  const std::vector<double> z{1, 4, 4, 2, 9,  //
                              4, 0, 3, 4, 9,  //
                              9, 9, 9, 9, 9};
  std::vector<int> arg;
  const auto p = ref::max_pool2(z, Shape{1, 3, 5}, &arg);
  CHECK(p == std::vector<double>{4, 4});
  CHECK(arg == std::vector<int>{1, 2});  // ties: (0,1) before (1,0); (0,2) before (1,3)
  CHECK(ref::unpool({0.5, 0.25}, arg, z.size()) == std::vector<double>{0, 0.5, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

namespace {

ref::ConvNet tiny(ref::Readout readout, const std::string& layers, std::uint64_t seed, double scale, double gain = 1.0) {
  return ref::make_conv_net(eqprop::parse_layers(layers), facts(1, 6, 6, 3), readout, gain, seed, scale);
}

ref::States fixed_point(const ref::ConvNet& net, const std::vector<double>& x, double beta, int label,
                        const ref::States* from = nullptr) {
  ref::States s = from ? *from : ref::zero_states(net, x);
  for (int t = 0; t < 5000 && ref::residual(net, s, beta, label) > 1e-15; ++t) s = ref::step(net, s, beta, label);
  REQUIRE(ref::residual(net, s, beta, label) < 1e-14);
  return s;
}

double free_loss(const ref::ConvNet& net, const std::vector<double>& x, int label) {
  return ref::loss(net, fixed_point(net, x, 0.0, label), label);
}

// Every parameter of net in one list: pointers into W and b.
std::vector<double*> params(ref::ConvNet& net) {
  std::vector<double*> out;
  for (int l = 1; l <= net.L(); ++l) {
    for (auto& v : net.W[l]) out.push_back(&v);
    for (auto& v : net.b[l]) out.push_back(&v);
  }
  return out;
}
std::vector<double> flat(const ref::ConvNet& net, const ref::Params& g) {
  std::vector<double> out;
  for (int l = 1; l <= net.L(); ++l) {
    for (std::size_t i = 0; i < net.W[l].size(); ++i) out.push_back(g.W[l].empty() ? 0.0 : g.W[l][i]);
    for (std::size_t i = 0; i < net.b[l].size(); ++i) out.push_back(g.b[l].empty() ? 0.0 : g.b[l][i]);
  }
  return out;
}

void check_theorem(ref::Readout readout, const std::string& layers, double gain = 1.0) {
  ref::ConvNet net = tiny(readout, layers, 5, 1.5 / gain, gain);
  const auto x = uniform(36, 9);
  const int label = 1;
  const ref::States free = fixed_point(net, x, 0.0, label);
  // Units strictly inside (0, 1) carry the gradient; make sure the test has some.
  int inside = 0, total = 0;
  for (int l = 1; l <= net.dynamic(); ++l)
    for (double v : free[l]) {
      inside += v > 1e-9 && v < 1 - 1e-9;
      ++total;
    }
  CAPTURE(inside);
  CAPTURE(total);
  REQUIRE(inside >= total / 3);
  const double beta = 1e-4;
  const ref::States plus = fixed_point(net, x, beta, label, &free);
  const ref::States minus = fixed_point(net, x, -beta, label, &free);
  const auto gp = flat(net, ref::phi_gradient(net, plus, beta, label));
  const auto gm = flat(net, ref::phi_gradient(net, minus, -beta, label));
  std::vector<double> ep(gp.size());
  for (std::size_t i = 0; i < ep.size(); ++i) ep[i] = (gp[i] - gm[i]) / (2 * beta);  // -dJ/dtheta
  // -dJ/dtheta by central differences of the loss at the free fixed point.
  const auto p = params(net);
  REQUIRE(p.size() == ep.size());
  const double h = 1e-6;
  double diff = 0.0, norm = 0.0, largest = 0.0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const double keep = *p[i];
    *p[i] = keep + h;
    const double jp = free_loss(net, x, label);
    *p[i] = keep - h;
    const double jm = free_loss(net, x, label);
    *p[i] = keep;
    const double fd = -(jp - jm) / (2 * h);
    diff += (ep[i] - fd) * (ep[i] - fd);
    norm += fd * fd;
    largest = std::max(largest, std::abs(fd));
  }
  const double rel = std::sqrt(diff / norm);
  MESSAGE(layers << ": relative error of the centered EP estimate " << rel << ", largest |dJ/dtheta| " << largest);
  CHECK(largest > 1e-3);
  CHECK(rel < 1e-4);
}

}  // namespace

TEST_CASE("the drives are dPhi/ds and phi_gradient is dPhi/dtheta (finite differences of Phi)") {
  for (const auto readout : {ref::Readout::Mse, ref::Readout::CrossEntropy}) {
    const ref::ConvNet net = tiny(readout, "conv:2:3:p1:pool2 conv:3:2", 3, 1.0);
    ref::States s = ref::zero_states(net, uniform(36, 4));
    for (int l = 1; l <= net.dynamic(); ++l) s[l] = uniform(s[l].size(), 10 + l);
    const double beta = 0.7;
    const int label = 2;
    const ref::States d = ref::drives(net, s, beta, label);
    const double h = 1e-6;
    double worst = 0.0;
    for (int l = 1; l <= net.dynamic(); ++l)
      for (std::size_t i = 0; i < s[l].size(); ++i) {
        ref::States a = s, b = s;
        a[l][i] += h;
        b[l][i] -= h;
        const double fd = (ref::phi(net, a, beta, label) - ref::phi(net, b, beta, label)) / (2 * h);
        worst = std::max(worst, std::abs(fd - d[l][i]));
      }
    CHECK(worst < 1e-7);
    ref::ConvNet m = net;
    const auto g = flat(m, ref::phi_gradient(m, s, beta, label));
    const auto p = params(m);
    worst = 0.0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double keep = *p[i];
      *p[i] = keep + h;
      const double fp = ref::phi(m, s, beta, label);
      *p[i] = keep - h;
      const double fm = ref::phi(m, s, beta, label);
      *p[i] = keep;
      worst = std::max(worst, std::abs((fp - fm) / (2 * h) - g[i]));
    }
    CHECK(worst < 1e-7);
  }
}

TEST_CASE("EP theorem on tiny conv nets: the centered estimate against finite differences of the loss") {
  check_theorem(ref::Readout::Mse, "conv:2:3:p1:pool2 conv:3:2");
  check_theorem(ref::Readout::CrossEntropy, "conv:2:3:p1:pool2 dense:5");
  check_theorem(ref::Readout::Mse, "conv:2:3:p1:pool2 dense:4", 0.5);  // rho(u) = clip(u/2, 0, 1), Laborieux's CIFAR-10 choice
}
