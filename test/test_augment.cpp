// Random translations of the training images: the shift against a per-pixel definition, and
// the drawn shifts' range, spread and independence of everything but (seed, epoch, example).
#include <doctest/doctest.h>

#include <map>
#include <utility>
#include <vector>

#include "eqprop/io/augment.hpp"
#include "eqprop/io/dataset.hpp"

namespace {
constexpr int kSide = 28;

// out(r, c) = in(r - dy, c - dx) where that pixel exists, else 0.
std::vector<std::uint8_t> naive_shift(const std::vector<std::uint8_t>& in, eqprop::Shift s) {
  std::vector<std::uint8_t> out(eqprop::kInputs, 0);
  for (int r = 0; r < kSide; ++r)
    for (int c = 0; c < kSide; ++c) {
      const int sr = r - s.dy, sc = c - s.dx;
      if (sr >= 0 && sr < kSide && sc >= 0 && sc < kSide) out[r * kSide + c] = in[sr * kSide + sc];
    }
  return out;
}
}  // namespace

TEST_CASE("shift_image moves every pixel by (dx, dy) and fills the border with zeros") {
  // Nonzero bytes, and no two pixels up to 87 apart alike (7 d is not 0 modulo 255 for d < 255),
  // so any shift by up to 3 rows and columns is told from another.
  std::vector<std::uint8_t> in(eqprop::kInputs);
  for (int i = 0; i < eqprop::kInputs; ++i) in[i] = static_cast<std::uint8_t>(1 + (7 * i) % 255);
  std::vector<std::uint8_t> out(eqprop::kInputs, 255);
  for (int dy = -3; dy <= 3; ++dy)
    for (int dx = -3; dx <= 3; ++dx) {
      eqprop::shift_image(in.data(), {dx, dy}, out.data());
      CAPTURE(dx);
      CAPTURE(dy);
      CHECK(out == naive_shift(in, {dx, dy}));
    }
  eqprop::shift_image(in.data(), {0, 0}, out.data());
  CHECK(out == in);
  // Out of the frame entirely: a blank image, not a read outside `in`.
  for (eqprop::Shift s : {eqprop::Shift{28, 0}, eqprop::Shift{0, -28}, eqprop::Shift{-40, 5}}) {
    eqprop::shift_image(in.data(), s, out.data());
    CHECK(out == std::vector<std::uint8_t>(eqprop::kInputs, 0));
  }
  // One right and one down, then back: the pixels that stayed in the frame come back.
  std::vector<std::uint8_t> back(eqprop::kInputs);
  eqprop::shift_image(in.data(), {1, 1}, out.data());
  eqprop::shift_image(out.data(), {-1, -1}, back.data());
  for (int r = 0; r < kSide - 1; ++r)
    for (int c = 0; c < kSide - 1; ++c) CHECK(back[r * kSide + c] == in[r * kSide + c]);
}

TEST_CASE("draw_shift: uniform over the (2K+1)^2 shifts, fixed by seed, epoch and example") {
  for (int example = 0; example < 100; ++example) {
    const eqprop::Shift s = eqprop::draw_shift(7, 3, example, 0);
    CHECK(s.dx == 0);
    CHECK(s.dy == 0);
  }
  const int K = 2, n = 20000;
  std::map<std::pair<int, int>, int> counts;
  for (int example = 0; example < n; ++example) {
    const eqprop::Shift s = eqprop::draw_shift(1, 0, example, K);
    REQUIRE(s.dx >= -K);
    REQUIRE(s.dx <= K);
    REQUIRE(s.dy >= -K);
    REQUIRE(s.dy <= K);
    ++counts[{s.dx, s.dy}];
    // The same arguments, the same shift.
    const eqprop::Shift again = eqprop::draw_shift(1, 0, example, K);
    CHECK((again.dx == s.dx && again.dy == s.dy));
  }
  // 25 cells of 800 expected each; the binomial standard deviation is about 28, so 800 +- 150
  // is more than five of them.
  REQUIRE(counts.size() == 25);
  for (const auto& [cell, count] : counts) {
    CAPTURE(cell.first);
    CAPTURE(cell.second);
    CHECK(count > 650);
    CHECK(count < 950);
  }
  // Another epoch or another seed draws afresh: about 1/25 of the examples keep their shift.
  int same_epoch = 0, same_seed = 0;
  for (int example = 0; example < n; ++example) {
    const eqprop::Shift a = eqprop::draw_shift(1, 0, example, K);
    const eqprop::Shift b = eqprop::draw_shift(1, 1, example, K);
    const eqprop::Shift c = eqprop::draw_shift(2, 0, example, K);
    same_epoch += a.dx == b.dx && a.dy == b.dy;
    same_seed += a.dx == c.dx && a.dy == c.dy;
  }
  CHECK(same_epoch > n / 25 - 250);
  CHECK(same_epoch < n / 25 + 250);
  CHECK(same_seed > n / 25 - 250);
  CHECK(same_seed < n / 25 + 250);
}
