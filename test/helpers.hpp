// Test helpers: a temporary folder, a writer of small IDX files, and the library's slow,
// obviously correct double-precision EP (ep/reference.hpp: plain loops, no BLAS, no shared
// code with the kernels) under short names.
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

#include "eqprop/kernels/narrow_layer.hpp"
#include "eqprop/ep/network.hpp"
#include "eqprop/ep/reference.hpp"

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

// ---- The library's naive double-precision EP (ep/reference.hpp), under the tests' names ----
using Net = eqprop::reference::Net;
using State = eqprop::reference::State;  // s[0] = x (clamped), s[k] = h_k
using eqprop::reference::rho;
inline double ref_F(const Net& net, const State& s, double beta, int label) {
  return eqprop::reference::total_energy(net, s, beta, label);
}
inline double ref_cost(const Net& net, const State& s, int label) { return eqprop::reference::cost(net, s, label); }
inline State ref_grad(const Net& net, const State& s, double beta, int label) {
  return eqprop::reference::gradient(net, s, beta, label);
}
inline State ref_step(const Net& net, const State& s, double eps, double beta, int label) {
  return eqprop::reference::step(net, s, eps, beta, label);
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

// top = the copies of net's W_L that the narrow loops read.
template <typename T>
void refresh_top(eqprop::NarrowTop<T>& top, const eqprop::NetworkT<T>& net) {
  const int L = net.layers();
  top.refresh(net.W[L].data(), net.sizes[L - 1], net.sizes[L]);
}

// Directory of the real MNIST files, from the environment the meson test sets.
inline std::string mnist_dir() {
  const char* d = std::getenv("EQPROP_DATA");
  return d ? d : "data/mnist";
}

}  // namespace test
