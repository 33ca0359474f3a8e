#include "eqprop/ep/reference.hpp"

#include <algorithm>

namespace eqprop::reference {

double rho(double v) { return std::min(std::max(v, 0.0), 1.0); }

double total_energy(const Net& net, const State& s, double beta, int label) {
  const int L = net.layers();
  double E = 0;
  for (int k = 0; k <= L; ++k)
    for (int j = 0; j < net.sizes[k]; ++j) E += 0.5 * rho(s[k][j]) * rho(s[k][j]) - net.b[k][j] * rho(s[k][j]);
  for (int k = 1; k <= L; ++k)
    for (int i = 0; i < net.sizes[k - 1]; ++i)
      for (int j = 0; j < net.sizes[k]; ++j)
        E -= rho(s[k - 1][i]) * net.W[k][std::size_t(i) * net.sizes[k] + j] * rho(s[k][j]);
  double C = 0;
  for (int j = 0; j < net.sizes[L]; ++j) C += (s[L][j] - (j == label)) * (s[L][j] - (j == label));
  return E + beta * C;
}

double cost(const Net& net, const State& s, int label) {
  return total_energy(net, s, 1.0, label) - total_energy(net, s, 0.0, label);
}

State gradient(const Net& net, const State& s, double beta, int label) {
  const int L = net.layers();
  State g(L + 1);
  for (int k = 1; k <= L; ++k) {
    g[k].assign(net.sizes[k], 0.0);
    for (int j = 0; j < net.sizes[k]; ++j) {
      double drive = net.b[k][j];
      for (int i = 0; i < net.sizes[k - 1]; ++i) drive += rho(s[k - 1][i]) * net.W[k][std::size_t(i) * net.sizes[k] + j];
      if (k < L)
        for (int m = 0; m < net.sizes[k + 1]; ++m)
          drive += net.W[k + 1][std::size_t(j) * net.sizes[k + 1] + m] * rho(s[k + 1][m]);
      const double dr = (s[k][j] >= 0.0 && s[k][j] <= 1.0) ? 1.0 : 0.0;
      g[k][j] = dr * (rho(s[k][j]) - drive);
      if (k == L) g[k][j] += 2.0 * beta * (s[k][j] - (j == label));
    }
  }
  return g;
}

State step(const Net& net, const State& s, double eps, double beta, int label) {
  const State g = gradient(net, s, beta, label);
  State out = s;
  for (int k = 1; k <= net.layers(); ++k)
    for (int j = 0; j < net.sizes[k]; ++j) out[k][j] = rho(s[k][j] - eps * g[k][j]);
  return out;
}

void train_minibatch(Net& net, const Config& cfg, double beta, const std::vector<double>& alphas,
                     const std::vector<std::vector<double>>& inputs, const std::vector<int>& labels,
                     std::vector<State*>& particles) {
  const int L = net.layers(), B = static_cast<int>(inputs.size());
  const bool symmetric = cfg.nudging == Nudging::Symmetric;
  Net grad = net;  // sum over the examples of (pre^a post^a - pre^b post^b)
  for (auto& w : grad.W) std::fill(w.begin(), w.end(), 0.0);
  for (auto& b : grad.b) std::fill(b.begin(), b.end(), 0.0);
  for (int i = 0; i < B; ++i) {
    State s = *particles[i];
    if (!cfg.persistent_particles)
      for (int k = 1; k <= L; ++k) std::fill(s[k].begin(), s[k].end(), 0.0);
    s[0] = inputs[i];
    for (int t = 0; t < cfg.n_free; ++t) s = step(net, s, cfg.eps, 0.0, labels[i]);
    if (cfg.persistent_particles) *particles[i] = s;
    State a = s, b = s;
    for (int t = 0; t < cfg.n_nudged; ++t) a = step(net, a, cfg.eps, beta, labels[i]);
    if (symmetric)
      for (int t = 0; t < cfg.n_nudged; ++t) b = step(net, b, cfg.eps, -beta, labels[i]);
    for (int k = 1; k <= L; ++k) {
      for (int p = 0; p < net.sizes[k - 1]; ++p)
        for (int q = 0; q < net.sizes[k]; ++q)
          grad.W[k][std::size_t(p) * net.sizes[k] + q] += a[k - 1][p] * a[k][q] - b[k - 1][p] * b[k][q];
      for (int q = 0; q < net.sizes[k]; ++q) grad.b[k][q] += a[k][q] - b[k][q];
    }
  }
  const double denom = (symmetric ? 2 * beta : beta) * B;
  for (int k = 1; k <= L; ++k) {
    const double keep = 1 - alphas[k - 1] * cfg.weight_decay;  // L2 shrink of W only
    for (std::size_t j = 0; j < net.W[k].size(); ++j) net.W[k][j] = keep * net.W[k][j] + alphas[k - 1] / denom * grad.W[k][j];
    for (std::size_t j = 0; j < net.b[k].size(); ++j) net.b[k][j] += alphas[k - 1] / denom * grad.b[k][j];
  }
}

}  // namespace eqprop::reference
