// The sparse input products against the dense sgemm path they replace: the same drive
// x W_1 + b_1 and the same update W_1 += c x^T D, in float (training) and double.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <random>
#include <stdexcept>
#include <utility>
#include <vector>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/ep/dynamics.hpp"
#include "eqprop/ep/input_layer.hpp"
#include "eqprop/kernels/pixels.hpp"
#include "eqprop/kernels/sparse_input.hpp"
#include "helpers.hpp"

namespace {

// rows x n0 inputs in [0, 1], a `zero_share` of them exactly 0; row 1 is all zero when
// rows > 1 (a blank image), and unit 0 is zero in every row.
template <typename T>
std::vector<T> sparse_rows(int rows, int n0, double zero_share, std::mt19937_64& g) {
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<T> x(std::size_t(rows) * n0);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < n0; ++j) {
      const bool zero = j == 0 || (rows > 1 && i == 1) || u(g) < zero_share;
      x[std::size_t(i) * n0 + j] = zero ? T(0) : static_cast<T>(u(g));
    }
  return x;
}

template <typename T>
eqprop::NetworkT<T> random_net(int n0, int n1, std::mt19937_64& g) {
  std::normal_distribution<double> nd(0, 0.1);
  eqprop::NetworkT<T> net;
  net.sizes = {n0, n1, 3};
  net.W.resize(3);
  net.b.resize(3);
  for (int k = 0; k < 3; ++k) {
    net.b[k].resize(net.sizes[k]);
    for (auto& v : net.b[k]) v = static_cast<T>(nd(g));
    if (k == 0) continue;
    net.W[k].resize(std::size_t(net.sizes[k - 1]) * net.sizes[k]);
    for (auto& v : net.W[k]) v = static_cast<T>(nd(g));
  }
  return net;
}

// Both products over several shapes, n_1 not a multiple of 16 among them.
template <typename T>
void check_against_dense(double tolerance) {
  std::mt19937_64 g(5);
  eqprop::SparseInput<T> input;  // reused across shapes: assign() must not keep stale entries
  for (const auto& [rows, n0, n1] : std::vector<std::array<int, 3>>{{20, 784, 500}, {7, 50, 37}, {1, 30, 16}, {250, 784, 500}}) {
    CAPTURE(rows);
    CAPTURE(n1);
    auto net = random_net<T>(n0, n1, g);
    const auto x = sparse_rows<T>(rows, n0, 0.8, g);
    input.assign(x.data(), rows, n0);

    std::vector<T> dense(std::size_t(rows) * n1), sparse(dense.size(), T(-7));
    eqprop::clamped_drive(net, x.data(), rows, dense.data());
    std::vector<T> unused;  // a conv layer 1's dense input
    eqprop::input_drive(net, input, 0, rows / 2, sparse.data(), unused);  // two row blocks
    eqprop::input_drive(net, input, rows / 2, rows - rows / 2, sparse.data(), unused);
    CHECK(test::max_diff(dense, sparse) <= tolerance);

    std::vector<T> diff(std::size_t(rows) * n1);
    std::normal_distribution<double> nd(0, 0.3);
    for (auto& v : diff) v = static_cast<T>(nd(g));
    const T c = T(0.37);
    auto expected = net.W[1];
    eqprop::gemm(eqprop::Trans::Yes, eqprop::Trans::No, n0, n1, rows, c, x.data(), n0, diff.data(), n1, T(1),
                 expected.data(), n1);
    auto updated = net;
    eqprop::UnitLists<T> lists;  // reused by both blocks, as a task's are
    eqprop::input_update(updated, input, diff.data(), c, 0, n0 / 2, updated.W[1].data(), lists);  // two row blocks
    eqprop::input_update(updated, input, diff.data(), c, n0 / 2, n0, updated.W[1].data(), lists);
    CHECK(test::max_diff(expected, updated.W[1]) <= tolerance);
    // A unit that is 0 in every row leaves its row of W_1 bit-identical.
    CHECK(std::equal(net.W[1].begin(), net.W[1].begin() + n1, updated.W[1].begin()));
  }
}

}  // namespace

TEST_CASE("SparseInput lists the nonzeros by sample and by unit") {
  const std::vector<float> x = {0, 2, 0, 3,   // sample 0
                                0, 0, 0, 0,   // sample 1: blank
                                5, 6, 0, 0};  // sample 2
  eqprop::SparseInput<float> in;
  in.assign(x.data(), 3, 4);
  CHECK(in.nonzeros() == 4);
  CHECK(in.row_count(0) == 2);
  CHECK(in.row_count(1) == 0);
  CHECK(in.row_count(2) == 2);
  CHECK(in.row_unit()[in.row_begin(0)] == 1);
  CHECK(in.row_unit()[in.row_begin(0) + 1] == 3);
  CHECK(in.row_unit()[in.row_begin(2)] == 0);
  CHECK(in.row_unit()[in.row_begin(2) + 1] == 1);
  CHECK(in.row_value()[in.row_begin(0)] == 2);
  CHECK(in.row_value()[in.row_begin(2) + 1] == 6);
  eqprop::UnitLists<float> lists;
  lists.build(in, 0, 4);
  CHECK(lists.start == std::vector<int>{0, 1, 3, 3, 4});
  CHECK(lists.sample == std::vector<int>{2, 0, 2, 0});
  CHECK(lists.value == std::vector<float>{5, 2, 6, 3});
  lists.build(in, 1, 3);  // units 1 and 2 only
  CHECK(lists.u0 == 1);
  CHECK(lists.start == std::vector<int>{0, 2, 2});
  CHECK(lists.sample == std::vector<int>{0, 2});
  CHECK(lists.value == std::vector<float>{2, 6});
  lists.build(in, 3, 4);
  CHECK(lists.start == std::vector<int>{0, 1});
  CHECK(lists.sample == std::vector<int>{0});
  CHECK(lists.value == std::vector<float>{3});
  const std::vector<float> blank(8, 0.f);
  in.assign(blank.data(), 2, 4);
  CHECK(in.nonzeros() == 0);
  CHECK(in.row_count(0) == 0);
  CHECK(in.row_count(1) == 0);
  lists.build(in, 0, 4);
  CHECK(lists.start == std::vector<int>{0, 0, 0, 0, 0});
}

// Lists of a range of units are the whole minibatch's lists of those units, whatever the cut.
TEST_CASE("unit lists of a range equal the range of the whole lists") {
  std::mt19937_64 g(9);
  const int rows = 13, n0 = 97;
  const auto x = sparse_rows<float>(rows, n0, 0.6, g);
  eqprop::SparseInput<float> in;
  in.assign(x.data(), rows, n0);
  eqprop::UnitLists<float> whole, part;
  whole.build(in, 0, n0);
  CHECK(whole.start.back() == in.nonzeros());
  for (const auto& [u0, u1] : std::vector<std::pair<int, int>>{{0, 1}, {0, 40}, {17, 18}, {40, 97}, {96, 97}, {5, 5}}) {
    CAPTURE(u0);
    CAPTURE(u1);
    part.build(in, u0, u1);
    REQUIRE(part.start.size() == std::size_t(u1 - u0 + 1));
    for (int u = u0; u < u1; ++u) {
      const int n = whole.start[u + 1] - whole.start[u];
      REQUIRE(part.start[u - u0 + 1] - part.start[u - u0] == n);
      for (int e = 0; e < n; ++e) {
        CHECK(part.sample[part.start[u - u0] + e] == whole.sample[whole.start[u] + e]);
        CHECK(part.value[part.start[u - u0] + e] == whole.value[whole.start[u] + e]);
      }
    }
  }
}

TEST_CASE("sparse input products equal the dense sgemm path (float)") { check_against_dense<float>(2e-5); }

TEST_CASE("sparse input products equal the dense sgemm path (double)") { check_against_dense<double>(1e-13); }

// The float drive sums each output from the bias over the nonzeros in unit order: whole
// 64-column blocks in registers, the last partial block in memory. Both must give the bits of
// that one chain, fused where the clone has FMA (every element alike) and rounded otherwise.
TEST_CASE("the float drive is one chain per output in unit order, in full and partial column blocks") {
  std::mt19937_64 g(8);
  const int rows = 5, n0 = 300, n1 = 150;  // two full blocks of 64 columns and 22 left over
  const auto net = random_net<float>(n0, n1, g);
  const auto x = sparse_rows<float>(rows, n0, 0.7, g);
  eqprop::SparseInput<float> input;
  input.assign(x.data(), rows, n0);
  std::vector<float> got(std::size_t(rows) * n1);
  eqprop::sparse_drive(input, 0, rows, net.W[1].data(), net.b[1].data(), n1, got.data());
  int fused = 0, rounded = 0;
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < n1; ++j) {
      float f = net.b[1][j], r = net.b[1][j];
      for (int u = 0; u < n0; ++u) {
        const float v = x[std::size_t(i) * n0 + u];
        if (v == 0.f) continue;
        const float w = net.W[1][std::size_t(u) * n1 + j];
        f = std::fma(v, w, f);
        volatile float product = v * w;  // rounded on its own
        r = r + product;
      }
      const float have = got[std::size_t(i) * n1 + j];
      fused += have == f;
      rounded += have == r;
    }
  }
  CHECK((fused == rows * n1 || rounded == rows * n1));
}

// The engine's drive pipeline: threads sum each output over their own ranges of input units,
// one after the other. Any cut into consecutive ranges, block by block, must give the bits of
// the whole drive (row 1 is blank, unit 0 is zero everywhere: empty ranges included).
TEST_CASE("the drive in pieces over consecutive unit ranges has the whole drive's bits") {
  std::mt19937_64 g(9);
  const int rows = 6, n0 = 300, n1 = 150;
  const auto net = random_net<float>(n0, n1, g);
  const auto x = sparse_rows<float>(rows, n0, 0.7, g);
  eqprop::SparseInput<float> input;
  input.assign(x.data(), rows, n0);
  std::vector<float> whole(std::size_t(rows) * n1);
  eqprop::sparse_drive(input, 0, rows, net.W[1].data(), net.b[1].data(), n1, whole.data());
  REQUIRE(eqprop::sparse_drive_blocks(n1) == 3);
  for (const auto& cuts : std::vector<std::vector<int>>{{0, n0}, {0, 150, n0}, {0, 1, 2, 3, 5, n0}, {0, 97, 203, 204, n0},
                                                       {0, 0, 150, 299, n0}}) {
    CAPTURE(cuts[1]);
    CAPTURE(cuts.size());
    // Rows 1 to 4 only: the pieces must leave the other rows as they are.
    std::vector<float> pieces(std::size_t(rows) * n1, -7.f);
    for (int b = 0; b < 3; ++b)
      for (std::size_t r = 0; r + 1 < cuts.size(); ++r)
        eqprop::sparse_drive_part(input, 1, 4, net.W[1].data(), net.b[1].data(), n1, pieces.data(), b, cuts[r], cuts[r + 1]);
    CHECK(std::memcmp(pieces.data() + n1, whole.data() + n1, 4 * n1 * sizeof(float)) == 0);
    CHECK(std::all_of(pieces.begin(), pieces.begin() + n1, [](float v) { return v == -7.f; }));
    CHECK(std::all_of(pieces.end() - n1, pieces.end(), [](float v) { return v == -7.f; }));
  }
}

TEST_CASE("rows filled one by one in any order give the same lists as assign()") {
  std::mt19937_64 g(8);
  const int rows = 6, n0 = 40;
  const auto x = sparse_rows<float>(rows, n0, 0.7, g);
  eqprop::SparseInput<float> whole, by_row;
  whole.assign(x.data(), rows, n0);
  by_row.assign(x.data(), 2, n0);  // an earlier, smaller block: reset() must clear it
  by_row.reset(rows, n0);
  for (int i : {3, 0, 5, 1, 4, 2}) by_row.set_row(i, x.data() + std::size_t(i) * n0);
  eqprop::UnitLists<float> a, b;
  a.build(whole, 0, n0);
  b.build(by_row, 0, n0);
  CHECK(by_row.nonzeros() == whole.nonzeros());
  CHECK(b.start == a.start);
  CHECK(b.sample == a.sample);
  CHECK(b.value == a.value);
}

TEST_CASE("pixel bytes give the plain loop's entries, counts and values (any width, any pattern)") {
  // set_row from bytes has an 8-pixels-at-a-time path on AVX2 CPUs; the plain definition here.
  std::mt19937_64 g(12);
  for (int n0 : {784, 787, 8, 5, 1}) {
    const int rows = 7;
    std::vector<std::uint8_t> bytes(std::size_t(rows) * n0);
    for (int i = 0; i < rows; ++i)
      for (int u = 0; u < n0; ++u) {
        // row 0 all zeros, row 1 no zeros (every byte value), the others about a fifth nonzero
        const auto b = static_cast<std::uint8_t>(i == 1 ? 1 + (u * 7 + 3) % 255 : g() % 256);
        bytes[std::size_t(i) * n0 + u] = i == 0 || (i > 1 && g() % 5 != 0) ? 0 : b;
      }
    eqprop::SparseInput<float> x;
    x.assign(bytes.data(), rows, n0);
    for (int i = 0; i < rows; ++i) {
      const std::uint8_t* row = bytes.data() + std::size_t(i) * n0;
      int n = 0;
      for (int u = 0; u < n0; ++u) {
        REQUIRE(x.row_before(i)[u] == n);
        if (row[u] == 0) continue;
        const std::size_t at = x.row_begin(i) + n;
        CHECK(x.row_unit()[at] == u);
        const float want = eqprop::pixel_value(row[u]);
        CHECK(std::memcmp(&x.row_value()[at], &want, sizeof want) == 0);
        ++n;
      }
      CHECK(x.row_before(i)[n0] == n);
      CHECK(x.row_count(i) == n);
    }
  }
}

TEST_CASE("pixel bytes list the same nonzeros with the same values as their floats") {
  std::vector<std::uint8_t> bytes(3 * 40);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = (i % 3 == 0) ? 0 : static_cast<std::uint8_t>(i * 37 % 256);
  std::vector<float> values(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) values[i] = eqprop::pixel_value(bytes[i]);
  eqprop::SparseInput<float> from_bytes, from_floats;
  from_bytes.assign(bytes.data(), 3, 40);
  from_floats.assign(values.data(), 3, 40);
  REQUIRE(from_bytes.nonzeros() == from_floats.nonzeros());
  for (int i = 0; i < 3; ++i) {
    REQUIRE(from_bytes.row_count(i) == from_floats.row_count(i));
    for (int e = 0; e < from_bytes.row_count(i); ++e) {
      const std::size_t at = from_bytes.row_begin(i) + e;
      CHECK(from_bytes.row_unit()[at] == from_floats.row_unit()[at]);
      CHECK(from_bytes.row_value()[at] == from_floats.row_value()[at]);
    }
  }
}
