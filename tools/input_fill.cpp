// Times the fill of a minibatch's inputs (SparseInput<float>::set_row from MNIST's pixel bytes,
// the library's, with its 8-pixel AVX2 path where the CPU has AVX2) against the plain
// one-pixel-at-a-time loop it replaces, interleaved, on the images of an MNIST directory:
//   cached:  the same 20 images again and again (in the L1/L2 caches)
//   random:  20 images drawn at random from the 60,000 each time (mostly from memory)
// Prints microseconds per image (row), the median of 15 rounds of 2,000 minibatches each, and
// checks that both give the same entries. Built and run by tools/input_fill.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "eqprop/kernels/pixels.hpp"
#include "eqprop/kernels/sparse_input.hpp"

namespace {
constexpr int kInputs = 784, kBatch = 20, kRounds = 15, kMinibatches = 2000;

// The loop the library used before (kernels/sparse_input.cpp, the scalar tail of set_row).
struct PlainRows {
  std::vector<int> unit, before, count;
  std::vector<float> value;
  PlainRows() : unit(kBatch * kInputs), before(kBatch * (kInputs + 1)), count(kBatch), value(kBatch * kInputs) {}
  void set_row(int i, const std::uint8_t* x) {
    int* u_out = unit.data() + i * kInputs;
    float* v_out = value.data() + i * kInputs;
    int* b_out = before.data() + i * (kInputs + 1);
    int n = 0;
    for (int u = 0; u < kInputs; ++u) {
      u_out[n] = u;
      v_out[n] = eqprop::pixel_value(x[u]);
      b_out[u] = n;
      n += x[u] != 0;
    }
    b_out[kInputs] = n;
    count[i] = n;
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "data/mnist";
  const std::string path = dir + "/train-images-idx3-ubyte";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    std::fprintf(stderr, "input_fill: cannot open %s\n", path.c_str());
    return 2;
  }
  const int images = 60000;
  std::vector<std::uint8_t> x(std::size_t(images) * kInputs);
  const bool read = std::fseek(f, 16, SEEK_SET) == 0 && std::fread(x.data(), 1, x.size(), f) == x.size();
  std::fclose(f);
  if (!read) {
    std::fprintf(stderr, "input_fill: %s is not MNIST's 60,000 training images\n", path.c_str());
    return 2;
  }
  eqprop::SparseInput<float> lib;
  lib.reset(kBatch, kInputs);
  PlainRows plain;
  // Same entries, counts and slots-before for every 7th image.
  for (int e = 0; e < images; e += 7) {
    const std::uint8_t* row = x.data() + std::size_t(e) * kInputs;
    lib.set_row(0, row);
    plain.set_row(0, row);
    const int n = plain.count[0];
    const bool same = lib.row_count(0) == n && std::equal(plain.unit.begin(), plain.unit.begin() + n, lib.row_unit().begin()) &&
                      std::memcmp(plain.value.data(), lib.row_value().data(), sizeof(float) * n) == 0 &&
                      std::equal(plain.before.begin(), plain.before.begin() + kInputs + 1, lib.row_before(0));
    if (!same) {
      std::fprintf(stderr, "input_fill: the library's entries differ from the plain loop's for image %d\n", e);
      return 1;
    }
  }
  std::mt19937 g(1);
  for (const bool random : {false, true}) {
    std::vector<double> t_plain, t_lib;
    for (int r = 0; r < kRounds; ++r) {
      for (const bool use_lib : {false, true}) {
        std::mt19937 draw(g());
        const auto t0 = std::chrono::steady_clock::now();
        for (int m = 0; m < kMinibatches; ++m)
          for (int i = 0; i < kBatch; ++i) {
            const std::size_t e = random ? draw() % images : std::size_t(1000 + i);
            if (use_lib) lib.set_row(i, x.data() + e * kInputs);
            else plain.set_row(i, x.data() + e * kInputs);
          }
        const double us = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e6 /
                          (double(kMinibatches) * kBatch);
        (use_lib ? t_lib : t_plain).push_back(us);
      }
    }
    std::printf("%-7s plain loop %.3f us/image, library %.3f us/image, %.2fx\n", random ? "random" : "cached",
                median(t_plain), median(t_lib), median(t_plain) / median(t_lib));
  }
  return 0;
}
