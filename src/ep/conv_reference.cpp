#include "eqprop/ep/conv_reference.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace eqprop::reference {
namespace {

double clip01(double v) { return std::min(1.0, std::max(0.0, v)); }

std::vector<double> softmax(const std::vector<double>& a) {
  const double m = *std::max_element(a.begin(), a.end());
  std::vector<double> p(a.size());
  double sum = 0.0;
  for (std::size_t j = 0; j < a.size(); ++j) sum += p[j] = std::exp(a[j] - m);
  for (auto& v : p) v /= sum;
  return p;
}

// The shape of conv entry l's output before its pool.
Shape conv_shape(const ConvNet& net, int l) {
  const Shape& in = net.shapes[l - 1];
  const LayerSpec& s = net.specs[l];
  return Shape{s.size, conv_out(in.h, s), conv_out(in.w, s)};
}

// The output gradient of conv entry l's convolution that <f_l(s_{l-1}), s_l> gives: s_l moved
// to the positions the pool chose (the pool's choices from s_{l-1}, as the state is now).
std::vector<double> conv_output_grad(const ConvNet& net, int l, const std::vector<double>& below,
                                     const std::vector<double>& top) {
  if (net.specs[l].pool == 1) return top;
  std::vector<int> argmax;
  forward(net, l, below, &argmax);
  return unpool(top, argmax, static_cast<std::size_t>(conv_shape(net, l).size()));
}

}  // namespace

ConvNet make_conv_net(const std::vector<LayerSpec>& layers, const DataFacts& facts, Readout readout, double gain,
                      std::uint64_t seed, double scale) {
  ConvNet net;
  net.readout = readout;
  net.gain = gain;
  net.shapes = layer_shapes(layers, facts);
  net.specs.push_back(LayerSpec{});
  net.specs.insert(net.specs.end(), layers.begin(), layers.end());
  net.specs.push_back(output_entry(facts));
  const int L = net.L();
  net.W.assign(L + 1, {});
  net.b.assign(L + 1, {});
  std::mt19937_64 g(seed);
  for (int l = 1; l <= L; ++l) {
    const LayerSpec& s = net.specs[l];
    const long long fan_in = s.type == LayerType::Conv ? static_cast<long long>(net.shapes[l - 1].c) * s.kernel * s.kernel
                                                       : net.shapes[l - 1].size();
    const double r = scale / std::sqrt(static_cast<double>(fan_in));
    std::uniform_real_distribution<double> u(-r, r);
    net.W[l].resize(static_cast<std::size_t>(fan_in * s.size));  // C_l x C_{l-1} x K x K, or n_{l-1} x n_l
    for (auto& v : net.W[l]) v = u(g);
    net.b[l].resize(static_cast<std::size_t>(s.size));
    for (auto& v : net.b[l]) v = u(g);
  }
  return net;
}

States zero_states(const ConvNet& net, const std::vector<double>& x) {
  States s(net.dynamic() + 1);
  s[0] = x;
  for (int l = 1; l <= net.dynamic(); ++l) s[l].assign(static_cast<std::size_t>(net.shapes[l].size()), 0.0);
  return s;
}

std::vector<double> conv2d(const std::vector<double>& in, const Shape& is, const std::vector<double>& W,
                           const std::vector<double>* b, const LayerSpec& s) {
  const int K = s.kernel, P = s.padding, Ho = conv_out(is.h, s), Wo = conv_out(is.w, s);
  std::vector<double> out(static_cast<std::size_t>(s.size) * Ho * Wo, 0.0);
  for (int co = 0; co < s.size; ++co)
    for (int y = 0; y < Ho; ++y)
      for (int x = 0; x < Wo; ++x) {
        double acc = b ? (*b)[co] : 0.0;
        for (int ci = 0; ci < is.c; ++ci)
          for (int ky = 0; ky < K; ++ky)
            for (int kx = 0; kx < K; ++kx) {
              const int iy = y + ky - P, ix = x + kx - P;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
              acc += W[((std::size_t(co) * is.c + ci) * K + ky) * K + kx] * in[(std::size_t(ci) * is.h + iy) * is.w + ix];
            }
        out[(std::size_t(co) * Ho + y) * Wo + x] = acc;
      }
  return out;
}

std::vector<double> conv2d_transpose(const std::vector<double>& g, const Shape& is, const std::vector<double>& W,
                                     const LayerSpec& s) {
  const int K = s.kernel, P = s.padding, Ho = conv_out(is.h, s), Wo = conv_out(is.w, s);
  std::vector<double> out(static_cast<std::size_t>(is.size()), 0.0);
  for (int co = 0; co < s.size; ++co)
    for (int y = 0; y < Ho; ++y)
      for (int x = 0; x < Wo; ++x) {
        const double gv = g[(std::size_t(co) * Ho + y) * Wo + x];
        for (int ci = 0; ci < is.c; ++ci)
          for (int ky = 0; ky < K; ++ky)
            for (int kx = 0; kx < K; ++kx) {
              const int iy = y + ky - P, ix = x + kx - P;
              if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
              out[(std::size_t(ci) * is.h + iy) * is.w + ix] += W[((std::size_t(co) * is.c + ci) * K + ky) * K + kx] * gv;
            }
      }
  return out;
}

std::vector<double> max_pool2(const std::vector<double>& z, const Shape& zs, std::vector<int>* argmax) {
  const int Ho = zs.h / 2, Wo = zs.w / 2;
  std::vector<double> out(static_cast<std::size_t>(zs.c) * Ho * Wo);
  if (argmax) argmax->assign(out.size(), 0);
  for (int c = 0; c < zs.c; ++c)
    for (int y = 0; y < Ho; ++y)
      for (int x = 0; x < Wo; ++x) {
        int best = (c * zs.h + 2 * y) * zs.w + 2 * x;
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) {
            const int i = (c * zs.h + 2 * y + dy) * zs.w + 2 * x + dx;
            if (z[i] > z[best]) best = i;  // strictly greater: the first maximum in row-major order wins
          }
        const std::size_t o = (std::size_t(c) * Ho + y) * Wo + x;
        out[o] = z[best];
        if (argmax) (*argmax)[o] = best;
      }
  return out;
}

std::vector<double> unpool(const std::vector<double>& g, const std::vector<int>& argmax, std::size_t n) {
  std::vector<double> out(n, 0.0);
  for (std::size_t i = 0; i < g.size(); ++i) out[argmax[i]] += g[i];
  return out;
}

std::vector<double> forward(const ConvNet& net, int l, const std::vector<double>& below, std::vector<int>* argmax) {
  const LayerSpec& s = net.specs[l];
  if (s.type == LayerType::Conv) {
    std::vector<double> z = conv2d(below, net.shapes[l - 1], net.W[l], &net.b[l], s);
    if (s.pool == 1) return z;
    return max_pool2(z, conv_shape(net, l), argmax);
  }
  const std::size_t m = below.size(), n = static_cast<std::size_t>(s.size);
  std::vector<double> out(net.b[l]);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < n; ++j) out[j] += below[i] * net.W[l][i * n + j];
  return out;
}

std::vector<double> scores(const ConvNet& net, const States& s) {
  if (net.readout == Readout::Mse) return s[net.L()];
  return softmax(forward(net, net.L(), s[net.L() - 1]));
}

double loss(const ConvNet& net, const States& s, int label) {
  const std::vector<double> p = scores(net, s);
  if (net.readout == Readout::CrossEntropy) {
    const auto a = forward(net, net.L(), s[net.L() - 1]);
    const double m = *std::max_element(a.begin(), a.end());
    double sum = 0.0;
    for (double v : a) sum += std::exp(v - m);
    return -(a[label] - m - std::log(sum));
  }
  double c = 0.0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    const double d = p[j] - (static_cast<int>(j) == label ? 1.0 : 0.0);
    c += d * d;
  }
  return 0.5 * c;
}

double phi(const ConvNet& net, const States& s, double beta, int label) {
  double total = 0.0;
  for (int l = 1; l <= net.dynamic(); ++l) {
    const auto f = forward(net, l, s[l - 1]);
    for (std::size_t i = 0; i < f.size(); ++i) total += f[i] * s[l][i];
  }
  return total - beta * loss(net, s, label);
}

States drives(const ConvNet& net, const States& s, double beta, int label) {
  const int D = net.dynamic();
  States d(D + 1);
  for (int l = 1; l <= D; ++l) {
    d[l] = forward(net, l, s[l - 1]);
    if (l < D) {  // the layer above's term <f_{l+1}(s_l), s_{l+1}>
      const LayerSpec& up = net.specs[l + 1];
      if (up.type == LayerType::Conv) {
        const auto g = conv_output_grad(net, l + 1, s[l], s[l + 1]);
        const auto t = conv2d_transpose(g, net.shapes[l], net.W[l + 1], up);
        for (std::size_t i = 0; i < t.size(); ++i) d[l][i] += t[i];
      } else {
        const std::size_t n = static_cast<std::size_t>(up.size);
        for (std::size_t i = 0; i < d[l].size(); ++i)
          for (std::size_t j = 0; j < n; ++j) d[l][i] += net.W[l + 1][i * n + j] * s[l + 1][j];
      }
    }
  }
  if (beta != 0.0) {  // -beta dL/ds_D
    if (net.readout == Readout::Mse) {
      for (std::size_t j = 0; j < d[D].size(); ++j)
        d[D][j] -= beta * (s[D][j] - (static_cast<int>(j) == label ? 1.0 : 0.0));
    } else {
      const auto p = scores(net, s);
      const std::size_t n = p.size();
      for (std::size_t i = 0; i < d[D].size(); ++i)
        for (std::size_t j = 0; j < n; ++j)
          d[D][i] += beta * net.W[net.L()][i * n + j] * ((static_cast<int>(j) == label ? 1.0 : 0.0) - p[j]);
    }
  }
  return d;
}

States step(const ConvNet& net, const States& s, double beta, int label) {
  const States d = drives(net, s, beta, label);
  States next = s;
  for (int l = 1; l <= net.dynamic(); ++l)
    for (std::size_t i = 0; i < d[l].size(); ++i) next[l][i] = clip01(net.gain * d[l][i]);
  return next;
}

double residual(const ConvNet& net, const States& s, double beta, int label) {
  const States d = drives(net, s, beta, label);
  double worst = 0.0;
  for (int l = 1; l <= net.dynamic(); ++l)
    for (std::size_t i = 0; i < d[l].size(); ++i) worst = std::max(worst, std::abs(s[l][i] - clip01(net.gain * d[l][i])));
  return worst;
}

Params phi_gradient(const ConvNet& net, const States& s, double beta, int label) {
  Params g;
  g.W.resize(net.W.size());
  g.b.resize(net.b.size());
  for (int l = 1; l <= net.dynamic(); ++l) {
    const LayerSpec& sp = net.specs[l];
    g.W[l].assign(net.W[l].size(), 0.0);
    g.b[l].assign(net.b[l].size(), 0.0);
    if (sp.type == LayerType::Dense) {
      const std::size_t n = static_cast<std::size_t>(sp.size);
      for (std::size_t i = 0; i < s[l - 1].size(); ++i)
        for (std::size_t j = 0; j < n; ++j) g.W[l][i * n + j] = s[l - 1][i] * s[l][j];
      g.b[l] = s[l];
      continue;
    }
    // d/dW <P(W * s_{l-1} + b), s_l> = the weight gradient of a convolution whose output
    // gradient is s_l unpooled; d/db: its sum over each channel's positions.
    const Shape& is = net.shapes[l - 1];
    const Shape cs = conv_shape(net, l);
    const auto go = conv_output_grad(net, l, s[l - 1], s[l]);
    const int K = sp.kernel, P = sp.padding;
    for (int co = 0; co < cs.c; ++co)
      for (int y = 0; y < cs.h; ++y)
        for (int x = 0; x < cs.w; ++x) {
          const double gv = go[(std::size_t(co) * cs.h + y) * cs.w + x];
          g.b[l][co] += gv;
          for (int ci = 0; ci < is.c; ++ci)
            for (int ky = 0; ky < K; ++ky)
              for (int kx = 0; kx < K; ++kx) {
                const int iy = y + ky - P, ix = x + kx - P;
                if (iy < 0 || iy >= is.h || ix < 0 || ix >= is.w) continue;
                g.W[l][((std::size_t(co) * is.c + ci) * K + ky) * K + kx] += gv * s[l - 1][(std::size_t(ci) * is.h + iy) * is.w + ix];
              }
        }
  }
  if (net.readout == Readout::CrossEntropy) {  // -beta dL/dtheta of the readout W_L, b_L
    const int L = net.L();
    const auto p = scores(net, s);
    const std::size_t n = p.size();
    g.W[L].assign(net.W[L].size(), 0.0);
    g.b[L].assign(n, 0.0);
    for (std::size_t j = 0; j < n; ++j) {
      const double e = p[j] - (static_cast<int>(j) == label ? 1.0 : 0.0);
      g.b[L][j] = -beta * e;
      for (std::size_t i = 0; i < s[L - 1].size(); ++i) g.W[L][i * n + j] = -beta * s[L - 1][i] * e;
    }
  }
  return g;
}

}  // namespace eqprop::reference
