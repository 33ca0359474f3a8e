// kernels/conv.hpp (im2col + gemm) against the plain loops of ep/conv_reference.hpp and the
// definition of the weight gradient, in double (to rounding) and float (to 1e-5).
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "eqprop/ep/conv_reference.hpp"
#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/conv.hpp"
#include "eqprop/kernels/skinny_gemm.hpp"

namespace ref = eqprop::reference;
using eqprop::LayerSpec;
using eqprop::Shape;

namespace {

std::vector<double> uniform(std::size_t n, std::mt19937_64& g, double lo = -1, double hi = 1) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = u(g);
  return v;
}
template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}
template <typename T>
double worst(const std::vector<T>& a, const std::vector<double>& b, std::size_t offset = 0) {
  double w = 0.0;
  for (std::size_t i = 0; i < b.size(); ++i) w = std::max(w, std::abs(double(a[offset + i]) - b[i]));
  return w;
}
std::vector<double> slice(const std::vector<double>& v, std::size_t from, std::size_t n) {
  return std::vector<double>(v.begin() + from, v.begin() + from + n);
}

template <typename T>
void check(const Shape& in, const LayerSpec& s, double tol) {
  CAPTURE(eqprop::format_layers({s}));
  CAPTURE(in.c);
  CAPTURE(in.h);
  CAPTURE(in.w);
  eqprop::blas_single_threaded();
  std::mt19937_64 g(in.c * 1000 + in.h * 10 + s.kernel + s.padding);
  const auto geo = eqprop::conv_geometry(in, s);
  const int rows = 3;
  const auto x = uniform(rows * geo.in_size(), g, 0, 1);
  const auto W = uniform(geo.co * geo.patch(), g);
  const auto b = uniform(geo.co, g);
  std::vector<T> col(geo.patch() * geo.positions()), z(rows * geo.conv_size());
  eqprop::conv_forward<T>(geo, as<T>(W).data(), as<T>(b).data(), rows, as<T>(x).data(), z.data(), col.data());
  const auto gz = uniform(rows * geo.conv_size(), g);
  std::vector<T> back(rows * geo.in_size(), T(0.25));  // added to
  eqprop::conv_transpose_add<T>(geo, as<T>(W).data(), rows, as<T>(gz).data(), back.data(), col.data());
  std::vector<double> dW_ref(W.size(), 0.0), db_ref(b.size(), 0.0);
  for (int r = 0; r < rows; ++r) {
    const auto xr = slice(x, r * geo.in_size(), geo.in_size());
    CHECK(worst(z, ref::conv2d(xr, in, W, &b, s), r * geo.conv_size()) < tol);
    auto t = ref::conv2d_transpose(slice(gz, r * geo.conv_size(), geo.conv_size()), in, W, s);
    for (auto& v : t) v += 0.25;
    CHECK(worst(back, t, r * geo.in_size()) < tol);
    // The definition: dW[o][c][ky][kx] = sum_{y,x} gz[o][y][x] in[c][y+ky-P][x+kx-P], db[o] = sum gz[o].
    for (int o = 0; o < geo.co; ++o)
      for (int y = 0; y < geo.ho; ++y)
        for (int xx = 0; xx < geo.wo; ++xx) {
          const double gv = gz[r * geo.conv_size() + (std::size_t(o) * geo.ho + y) * geo.wo + xx];
          db_ref[o] += 0.5 * gv;
          for (int c = 0; c < geo.ci; ++c)
            for (int ky = 0; ky < geo.k; ++ky)
              for (int kx = 0; kx < geo.k; ++kx) {
                const int iy = y + ky - geo.pad, ix = xx + kx - geo.pad;
                if (iy < 0 || iy >= geo.h || ix < 0 || ix >= geo.w) continue;
                dW_ref[((std::size_t(o) * geo.ci + c) * geo.k + ky) * geo.k + kx] +=
                    0.5 * gv * xr[(std::size_t(c) * geo.h + iy) * geo.w + ix];
              }
        }
  }
  std::vector<T> dW(W.size(), T(0)), db(b.size(), T(0)), cols(geo.patch() * geo.positions());
  eqprop::conv_weight_grad_add<T>(geo, rows, as<T>(x).data(), as<T>(gz).data(), T(0.5), dW.data(), db.data(),
                                  cols.data());
  CHECK(worst(dW, dW_ref) < tol * 10);
  CHECK(worst(db, db_ref) < tol * 10);
  if (s.pool == 2) {
    const int c = geo.co, h = geo.ho, w = geo.wo;
    const std::size_t os = std::size_t(c) * (h / 2) * (w / 2);
    std::vector<T> p(rows * os), back_z(rows * geo.conv_size());
    std::vector<std::int32_t> arg(rows * os);
    eqprop::max_pool2<T>(rows, c, h, w, z.data(), p.data(), arg.data());
    const auto gp = uniform(rows * os, g);
    eqprop::unpool<T>(rows, os, geo.conv_size(), as<T>(gp).data(), arg.data(), back_z.data());
    for (int r = 0; r < rows; ++r) {
      std::vector<int> ref_arg;
      const std::vector<double> zr(z.begin() + r * geo.conv_size(), z.begin() + (r + 1) * geo.conv_size());
      const auto pr = ref::max_pool2(zr, Shape{c, h, w}, &ref_arg);
      CHECK(worst(p, pr, r * os) == 0.0);
      CHECK(std::vector<int>(arg.begin() + r * os, arg.begin() + (r + 1) * os) == ref_arg);
      CHECK(worst(back_z, ref::unpool(slice(gp, r * os, os), ref_arg, zr.size()), r * geo.conv_size()) < 1e-7);
    }
  }
}

// The skinny loops in the convolution (float): forward and transpose as the plain loops, and a
// block of output channels (as the update recomputes the pool's choices) bit for bit the
// whole layer's rows for those channels.
void check_skinny(const Shape& in, const LayerSpec& s, double tol = 1e-5) {
  CAPTURE(eqprop::format_layers({s}));
  std::mt19937_64 g(in.c * 77 + s.kernel);
  const auto geo = eqprop::conv_geometry(in, s);
  const int rows = 2;
  const auto x = uniform(rows * geo.in_size(), g, 0, 1);
  const auto W = uniform(geo.co * geo.patch(), g);
  const auto Wf = as<float>(W);
  std::vector<float> Wt(Wf.size());
  eqprop::transpose(geo.co, static_cast<int>(geo.patch()), Wf.data(), Wt.data());
  std::vector<float> col(geo.patch() * geo.positions()), z(rows * geo.conv_size());
  eqprop::conv_forward<float>(geo, Wf.data(), nullptr, rows, as<float>(x).data(), z.data(), col.data(), true);
  const auto gz = uniform(rows * geo.conv_size(), g);
  std::vector<float> back(rows * geo.in_size(), 0.25f);
  eqprop::conv_transpose_add<float>(geo, Wf.data(), rows, as<float>(gz).data(), back.data(), col.data(), Wt.data());
  for (int r = 0; r < rows; ++r) {
    const auto xr = slice(x, r * geo.in_size(), geo.in_size());
    CHECK(worst(z, ref::conv2d(xr, in, W, nullptr, s), r * geo.conv_size()) < tol);
    auto t = ref::conv2d_transpose(slice(gz, r * geo.conv_size(), geo.conv_size()), in, W, s);
    for (auto& v : t) v += 0.25;
    CHECK(worst(back, t, r * geo.in_size()) < tol);
  }
  if (geo.co < 2) return;
  eqprop::ConvGeometry part = geo;
  const int r0 = 1;
  part.co = geo.co - 1;  // channels 1..co-1
  std::vector<float> zp(rows * part.conv_size());
  eqprop::conv_forward<float>(part, Wf.data() + r0 * geo.patch(), nullptr, rows, as<float>(x).data(), zp.data(),
                              col.data(), true);
  for (int r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < part.conv_size(); ++i)
      REQUIRE(zp[r * part.conv_size() + i] == z[r * geo.conv_size() + r0 * geo.positions() + i]);
}

}  // namespace

TEST_CASE("conv kernels match the plain loops: forward, transpose, weight gradient, pool and unpool") {
  const std::vector<std::pair<Shape, LayerSpec>> cases = {
      {{1, 6, 6}, {eqprop::LayerType::Conv, 2, 3, 1, 2}},
      {{1, 28, 28}, {eqprop::LayerType::Conv, 4, 5, 0, 2}},
      {{3, 9, 7}, {eqprop::LayerType::Conv, 5, 3, 2, 2}},  // odd sizes: the pool drops a row and a column
      {{4, 5, 5}, {eqprop::LayerType::Conv, 3, 5, 4, 1}},  // padding K-1, no pool
      {{2, 4, 4}, {eqprop::LayerType::Conv, 3, 1, 0, 1}},  // 1x1 kernel
      {{3, 7, 10}, {eqprop::LayerType::Conv, 4, 3, 0, 2}},  // no padding, several channels, H != W
  };
  for (const auto& [in, s] : cases) {
    check<double>(in, s, 1e-12);
    check<float>(in, s, 1e-5);
    if (eqprop::skinny_available(1)) check_skinny(in, s);
  }
  // conv-mnist's layer 2: sums of 800 terms of size up to 1 in float, rounding of order 1e-5
  if (eqprop::skinny_available(1)) check_skinny({32, 12, 12}, {eqprop::LayerType::Conv, 64, 5, 0, 2}, 1e-4);
}

TEST_CASE("max-pool ties: the first maximum in row-major order, as the reference") {
  const std::vector<float> z{2, 2, 2, 2};  // one 2x2 window, all equal
  float out = 0;
  std::int32_t arg = -1;
  eqprop::max_pool2<float>(1, 1, 2, 2, z.data(), &out, &arg);
  CHECK(out == 2.f);
  CHECK(arg == 0);
}

// ---- The conv layer kind in the dynamics (ep/conv_layer, ep/dynamics, ep/alternating) ----

#include "eqprop/ep/alternating.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"

namespace {

// The reference net's parameters as a NetworkT.
template <typename T>
eqprop::NetworkT<T> as_network(const ref::ConvNet& r) {
  eqprop::NetworkT<T> n;
  n.specs = r.specs;
  n.shapes = r.shapes;
  for (const Shape& s : r.shapes) n.sizes.push_back(static_cast<int>(s.size()));
  n.W.resize(r.W.size());
  n.b.resize(r.b.size());
  n.b[0].assign(n.sizes[0], T(0));
  for (int l = 1; l <= r.L(); ++l) {
    n.W[l] = as<T>(r.W[l]);
    n.b[l] = as<T>(r.b[l]);
  }
  return n;
}

template <typename T>
void check_fixed_points(const eqprop::NetworkT<T>& net, const std::vector<T>& drive1, int rows,
                        const std::vector<eqprop::Label>& labels, double tol, bool same);

template <typename T>
void check_dynamics(const std::string& layers, double tol) {
  CAPTURE(layers);
  eqprop::DataFacts f;
  f.channels = 2;
  f.height = 8;
  f.width = 7;
  f.classes = 3;
  const ref::ConvNet r = ref::make_conv_net(eqprop::parse_layers(layers), f, ref::Readout::Mse, 1.0, 21, 1.5);
  const auto net = as_network<T>(r);
  const int rows = 3, L = r.L();
  std::mt19937_64 g(5);
  const auto x = uniform(rows * r.shapes[0].size(), g, 0, 1);
  const std::vector<eqprop::Label> labels{0, 2, 1};
  std::vector<T> drive1(rows * net.sizes[1]);
  eqprop::clamped_drive(net, as<T>(x).data(), rows, drive1.data());
  eqprop::LayerStates<T> cur(net.sizes, rows), nxt(net.sizes, rows);
  cur.zero();
  // The engine's step at eps = 1 is the reference's s_l = clip(dPhi/ds_l); its cost has no 1/2,
  // so its beta is half the reference's.
  const double beta = 0.3;
  std::vector<ref::States> states;
  for (int i = 0; i < rows; ++i) states.push_back(ref::zero_states(r, slice(x, i * r.shapes[0].size(), r.shapes[0].size())));
  for (int t = 1; t <= 6; ++t) {
    eqprop::relax(net, drive1.data(), cur, nxt, rows, 1, T(1), T(beta), labels.data());
    for (int i = 0; i < rows; ++i) {
      states[i] = ref::step(r, states[i], 2 * beta, labels[i]);
      for (int k = 1; k <= L; ++k) {
        CAPTURE(t);
        CAPTURE(k);
        CHECK(worst(cur.h[k], states[i][k], std::size_t(i) * net.sizes[k]) < tol);
      }
    }
  }
  // Alternating sweeps and synchronous eps = 0.5 steps end on fixed points; with weights this
  // large there are several (the max-pool makes E non-convex) and the schemes may pick different
  // ones, so the same fixed point is asked of a net with smaller weights, where it is unique.
  check_fixed_points(net, drive1, rows, labels, tol, false);
  const auto small = as_network<T>(ref::make_conv_net(eqprop::parse_layers(layers), f, ref::Readout::Mse, 1.0, 21, 0.5));
  eqprop::clamped_drive(small, as<T>(x).data(), rows, drive1.data());
  check_fixed_points(small, drive1, rows, labels, tol, true);
}

template <typename T>
void check_fixed_points(const eqprop::NetworkT<T>& net, const std::vector<T>& drive1, int rows,
                        const std::vector<eqprop::Label>& labels, double tol, bool same) {
  const int L = net.layers();
  eqprop::LayerStates<T> alt(net.sizes, rows), sync(net.sizes, rows), nxt(net.sizes, rows);
  alt.zero();
  sync.zero();
  eqprop::relax_alternating(net, drive1.data(), alt, nxt, rows, 400, T(0), labels.data(), T(0));
  eqprop::relax(net, drive1.data(), sync, nxt, rows, 800, T(0.5), T(0), labels.data());
  // Both are fixed points: one more synchronous step moves neither.
  for (auto* s : {&alt, &sync}) {
    eqprop::LayerStates<T> again = *s;
    eqprop::relax(net, drive1.data(), again, nxt, rows, 1, T(1), T(0), labels.data());
    double moved = 0;
    for (int k = 1; k <= L; ++k)
      for (std::size_t i = 0; i < again.h[k].size(); ++i) moved = std::max(moved, std::abs(double(again.h[k][i]) - s->h[k][i]));
    CHECK(moved < tol * 10);
  }
  if (!same) return;
  for (int k = 1; k <= L; ++k) {
    double w = 0;
    for (std::size_t i = 0; i < alt.h[k].size(); ++i) w = std::max(w, std::abs(double(alt.h[k][i]) - sync.h[k][i]));
    CHECK(w < tol * 10);
  }
}

}  // namespace

TEST_CASE("conv layers in the dynamics: synchronous steps as the reference's, alternating to the same fixed point") {
  for (const char* layers : {"conv:3:3:p1:pool2 conv:4:2", "conv:3:3:pool2 dense:6", "conv:2:2 conv:3:3:p1:pool2"}) {
    check_dynamics<double>(layers, 1e-12);
    check_dynamics<float>(layers, 1e-5);
  }
}

// ---- The EP update of conv layers (ep/update, ConvLayer::update_rows) ----

#include "eqprop/ep/update.hpp"
#include "eqprop/kernels/sparse_input.hpp"

namespace {
// A 2x8x8 input with 3 classes, as the update tests' nets see it.
eqprop::DataFacts small_facts() {
  eqprop::DataFacts f;
  f.channels = 2;
  f.height = 8;
  f.width = 8;
  f.classes = 3;
  return f;
}

// What one minibatch's update reads: B random inputs (a third of them zero, as images have
// zeros) and random states of both phases, with layer 1's difference.
struct Phases {
  std::vector<double> x, diff1;
  eqprop::LayerStates<double> a, b;
  eqprop::SparseInput<double> input;
  Phases(const eqprop::NetworkT<double>& net, int B, std::mt19937_64& g) : a(net.sizes, B), b(net.sizes, B) {
    x = uniform(std::size_t(B) * net.sizes[0], g, 0, 1);
    for (std::size_t i = 0; i < x.size(); i += 3) x[i] = 0.0;
    for (int k = 1; k <= net.layers(); ++k) {
      a.h[k] = uniform(a.h[k].size(), g, 0, 1);
      b.h[k] = uniform(b.h[k].size(), g, 0, 1);
    }
    input.assign(x.data(), B, net.sizes[0]);
    diff1.resize(std::size_t(B) * net.sizes[1]);
    eqprop::layer1_difference(a, b, 0, B, diff1.data());
  }
};
}  // namespace

TEST_CASE("the EP update of a conv net is the reference's dPhi/dtheta difference, blocks by output channel") {
  for (const char* layers : {"conv:5:3:p1:pool2 conv:4:2 dense:6", "conv:3:2 conv:13:3:pool2"}) {
    CAPTURE(layers);
    const ref::ConvNet r = ref::make_conv_net(eqprop::parse_layers(layers), small_facts(), ref::Readout::Mse, 1.0, 4, 1.0);
    eqprop::NetworkT<double> net = as_network<double>(r);
    const int B = 3, L = r.L();
    std::mt19937_64 g(8);
    const Phases p(net, B, g);
    const auto& [x, diff1, a, b, input] = p;
    const std::vector<double> alphas{0.3, 0.2, 0.1, 0.05};
    const double beta_diff = 0.8, decay = 0.01;
    const auto blocks = eqprop::update_blocks(net.sizes, net.specs, net.shapes);
    eqprop::ep_update(net, blocks, input, a, b, B, std::vector<double>(alphas.begin(), alphas.begin() + L), beta_diff,
                      diff1.data(), decay);
    // The reference: W_k = (1 - alpha_k decay) W_k + alpha_k / (beta_diff B) sum_i (dPhi/dW_k(a_i) - dPhi/dW_k(b_i)).
    for (int k = 1; k <= L; ++k) {
      std::vector<double> want_W(r.W[k].size()), want_b(r.b[k]);
      for (std::size_t j = 0; j < want_W.size(); ++j) want_W[j] = (1 - alphas[k - 1] * decay) * r.W[k][j];
      for (int i = 0; i < B; ++i) {
        ref::States sa(L + 1), sb(L + 1);
        sa[0] = sb[0] = slice(x, i * r.shapes[0].size(), r.shapes[0].size());
        for (int l = 1; l <= L; ++l) {
          sa[l] = slice(a.h[l], i * net.sizes[l], net.sizes[l]);
          sb[l] = slice(b.h[l], i * net.sizes[l], net.sizes[l]);
        }
        const auto ga = ref::phi_gradient(r, sa, 0.0, 0), gb = ref::phi_gradient(r, sb, 0.0, 0);
        const double c = alphas[k - 1] / (beta_diff * B);
        for (std::size_t j = 0; j < want_W.size(); ++j) want_W[j] += c * (ga.W[k][j] - gb.W[k][j]);
        for (std::size_t j = 0; j < want_b.size(); ++j) want_b[j] += c * (ga.b[k][j] - gb.b[k][j]);
      }
      CAPTURE(k);
      CHECK(worst(net.W[k], want_W) < 1e-12);
      CHECK(worst(net.b[k], want_b) < 1e-12);
    }
    // Blocks: a conv layer's rows are its channels, every channel in exactly one block.
    std::vector<int> covered(L + 1, 0);
    for (const auto& blk : blocks) covered[blk.k] += blk.m;
    for (int k = 1; k <= L; ++k) CHECK(covered[k] == (net.conv(k) ? net.specs[k].size : net.sizes[k - 1]));
  }
}

TEST_CASE("momentum: the velocity and weights follow V = mu V + dW - lambda W, W += alpha V over minibatches") {
  // dW is what a plain update with rate 1 and no decay adds; on a copy of the current weights,
  // since a conv layer's pool choices depend on them. Dense and conv nets, with the sparse and
  // the dense layer-1 paths.
  for (const char* layers : {"conv:5:3:p1:pool2 conv:4:2 dense:6", "dense:7 dense:5"}) {
    CAPTURE(layers);
    const ref::ConvNet r = ref::make_conv_net(eqprop::parse_layers(layers), small_facts(), ref::Readout::Mse, 1.0, 4, 1.0);
    eqprop::NetworkT<double> net = as_network<double>(r), velocity = net;
    for (auto& w : velocity.W) std::fill(w.begin(), w.end(), 0.0);
    for (auto& b : velocity.b) std::fill(b.begin(), b.end(), 0.0);
    eqprop::NetworkT<double> want = net, want_v = velocity;
    const int B = 3, L = r.L();
    const std::vector<double> alphas{0.3, 0.2, 0.1, 0.05};
    const std::vector<double> rates(alphas.begin(), alphas.begin() + L), ones(L, 1.0);
    const double mu = 0.9, decay = 0.01, beta_diff = -0.8;
    const auto blocks = eqprop::update_blocks(net.sizes, net.specs, net.shapes);
    std::mt19937_64 g(11);
    for (int step = 0; step < 3; ++step) {
      const Phases p(net, B, g);
      eqprop::NetworkT<double> moved = want;
      eqprop::ep_update(moved, blocks, p.input, p.a, p.b, B, ones, beta_diff, p.diff1.data());
      for (int k = 1; k <= L; ++k) {
        for (std::size_t j = 0; j < want.W[k].size(); ++j) {
          want_v.W[k][j] = mu * want_v.W[k][j] + (moved.W[k][j] - want.W[k][j]) - decay * want.W[k][j];
          want.W[k][j] += alphas[k - 1] * want_v.W[k][j];
        }
        for (std::size_t j = 0; j < want.b[k].size(); ++j) {
          want_v.b[k][j] = mu * want_v.b[k][j] + (moved.b[k][j] - want.b[k][j]);
          want.b[k][j] += alphas[k - 1] * want_v.b[k][j];
        }
      }
      eqprop::ep_update(net, blocks, p.input, p.a, p.b, B, rates, beta_diff, p.diff1.data(), decay, &velocity, mu);
    }
    double moved_most = 0;
    for (int k = 1; k <= L; ++k) {
      CAPTURE(k);
      CHECK(worst(net.W[k], want.W[k]) < 1e-12);
      CHECK(worst(net.b[k], want.b[k]) < 1e-12);
      CHECK(worst(velocity.W[k], want_v.W[k]) < 1e-12);
      moved_most = std::max(moved_most, worst(net.W[k], r.W[k]));
    }
    CHECK(moved_most > 1e-2);
  }
}
