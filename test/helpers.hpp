// Test helpers: a temporary folder, a writer of small IDX files, and a slow, obviously
// correct double-precision EP reference written straight from the paper's equations with
// plain loops (no BLAS, no shared code with the library's kernels).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "eqprop/network.hpp"

namespace test {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "eqprop-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The largest |a[i] - b[i]| of two equally long vectors, in double.
template <typename T>
double max_diff(const std::vector<T>& a, const std::vector<T>& b) {
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

inline void put_be32(std::string& s, std::uint32_t v) {
  for (int sh = 24; sh >= 0; sh -= 8) s.push_back(static_cast<char>((v >> sh) & 0xff));
}
// Bytes of an IDX image file with the given header and pixel bytes.
inline std::string idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols,
                              const std::vector<std::uint8_t>& px, std::uint32_t magic = 0x803) {
  std::string s;
  put_be32(s, magic);
  put_be32(s, count);
  put_be32(s, rows);
  put_be32(s, cols);
  s.append(px.begin(), px.end());
  return s;
}
inline std::string idx_labels(const std::vector<std::uint8_t>& labels, std::uint32_t magic = 0x801) {
  std::string s;
  put_be32(s, magic);
  put_be32(s, static_cast<std::uint32_t>(labels.size()));
  s.append(labels.begin(), labels.end());
  return s;
}
inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// ---- Naive double-precision reference of the reference code's dynamics ----
using Net = eqprop::NetworkT<double>;
using State = std::vector<std::vector<double>>;  // s[0] = x (clamped), s[k] = h_k

inline double rho(double v) { return std::min(std::max(v, 0.0), 1.0); }

// F = E + beta C for one example, E with rho applied to every state, C = sum (h_L - y)^2.
inline double ref_F(const Net& net, const State& s, double beta, int label) {
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

inline double ref_cost(const Net& net, const State& s, int label) { return ref_F(net, s, 1.0, label) - ref_F(net, s, 0.0, label); }

// dF/dh_k, analytic, with rho'(s) = 1 on the closed interval [0,1] (and 0 outside).
inline State ref_grad(const Net& net, const State& s, double beta, int label) {
  const int L = net.layers();
  State g(L + 1);
  for (int k = 1; k <= L; ++k) {
    g[k].assign(net.sizes[k], 0.0);
    for (int j = 0; j < net.sizes[k]; ++j) {
      double drive = net.b[k][j];
      for (int i = 0; i < net.sizes[k - 1]; ++i) drive += rho(s[k - 1][i]) * net.W[k][std::size_t(i) * net.sizes[k] + j];
      if (k < L)
        for (int m = 0; m < net.sizes[k + 1]; ++m) drive += net.W[k + 1][std::size_t(j) * net.sizes[k + 1] + m] * rho(s[k + 1][m]);
      const double dr = (s[k][j] >= 0.0 && s[k][j] <= 1.0) ? 1.0 : 0.0;
      g[k][j] = dr * (rho(s[k][j]) - drive);
      if (k == L) g[k][j] += 2.0 * beta * (s[k][j] - (j == label));
    }
  }
  return g;
}

// One synchronous step h_k <- clip(h_k - eps dF/dh_k, 0, 1), written as the reference code does.
inline State ref_step(const Net& net, const State& s, double eps, double beta, int label) {
  const State g = ref_grad(net, s, beta, label);
  State out = s;
  for (int k = 1; k <= net.layers(); ++k)
    for (int j = 0; j < net.sizes[k]; ++j) out[k][j] = rho(s[k][j] - eps * g[k][j]);
  return out;
}

inline Net to_double(const eqprop::Network& f) {
  Net d;
  d.sizes = f.sizes;
  for (const auto& w : f.W) d.W.emplace_back(w.begin(), w.end());
  for (const auto& b : f.b) d.b.emplace_back(b.begin(), b.end());
  return d;
}

inline Net random_net(const std::vector<int>& sizes, std::uint64_t seed, double w_scale, double b_lo, double b_hi) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> w(-w_scale, w_scale), b(b_lo, b_hi);
  Net n;
  n.sizes = sizes;
  n.W.resize(sizes.size());
  n.b.resize(sizes.size());
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    n.b[k].resize(sizes[k]);
    for (auto& v : n.b[k]) v = b(g);
    if (k > 0) {
      n.W[k].resize(std::size_t(sizes[k - 1]) * sizes[k]);
      for (auto& v : n.W[k]) v = w(g);
    }
  }
  return n;
}

// Directory of the real MNIST files, from the environment the meson test sets.
inline std::string mnist_dir() {
  const char* d = std::getenv("EQPROP_DATA");
  return d ? d : "data/mnist";
}

}  // namespace test
