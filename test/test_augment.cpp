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
constexpr int kPixels = kSide * kSide;
void shift28(const std::uint8_t* in, eqprop::Shift s, std::uint8_t* out) { eqprop::shift_image(in, 1, kSide, kSide, s, out); }

// out(r, c) = in(r - dy, c - dx) where that pixel exists, else 0.
std::vector<std::uint8_t> naive_shift(const std::vector<std::uint8_t>& in, eqprop::Shift s) {
  std::vector<std::uint8_t> out(kPixels, 0);
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
  std::vector<std::uint8_t> in(kPixels);
  for (int i = 0; i < kPixels; ++i) in[i] = static_cast<std::uint8_t>(1 + (7 * i) % 255);
  std::vector<std::uint8_t> out(kPixels, 255);
  for (int dy = -3; dy <= 3; ++dy)
    for (int dx = -3; dx <= 3; ++dx) {
      shift28(in.data(), {dx, dy}, out.data());
      CAPTURE(dx);
      CAPTURE(dy);
      CHECK(out == naive_shift(in, {dx, dy}));
    }
  shift28(in.data(), {0, 0}, out.data());
  CHECK(out == in);
  // Out of the frame entirely: a blank image, not a read outside `in`.
  for (eqprop::Shift s : {eqprop::Shift{28, 0}, eqprop::Shift{0, -28}, eqprop::Shift{-40, 5}}) {
    shift28(in.data(), s, out.data());
    CHECK(out == std::vector<std::uint8_t>(kPixels, 0));
  }
  // One right and one down, then back: the pixels that stayed in the frame come back.
  std::vector<std::uint8_t> back(kPixels);
  shift28(in.data(), {1, 1}, out.data());
  shift28(out.data(), {-1, -1}, back.data());
  for (int r = 0; r < kSide - 1; ++r)
    for (int c = 0; c < kSide - 1; ++c) CHECK(back[r * kSide + c] == in[r * kSide + c]);
}

TEST_CASE("flips and channels: out(ch, r, c) = in(ch, r - dy, W - 1 - (c - dx)), each channel alike") {
  const int C = 3, H = 5, W = 7;
  std::vector<float> in(C * H * W);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = 1.f + float(i);
  std::vector<float> out(in.size(), -1.f);
  for (bool flip : {false, true})
    for (int dy = -2; dy <= 2; ++dy)
      for (int dx = -3; dx <= 3; ++dx) {
        eqprop::shift_image(in.data(), C, H, W, eqprop::Shift{dx, dy, flip}, out.data());
        for (int ch = 0; ch < C; ++ch)
          for (int r = 0; r < H; ++r)
            for (int c = 0; c < W; ++c) {
              const int sr = r - dy, m = c - dx, sc = flip ? W - 1 - m : m;
              const float want = (sr >= 0 && sr < H && m >= 0 && m < W) ? in[(ch * H + sr) * W + sc] : 0.f;
              CAPTURE(flip);
              CAPTURE(dx);
              CAPTURE(dy);
              REQUIRE(out[(ch * H + r) * W + c] == want);
            }
      }
  // Bytes and floats take the same path.
  std::vector<std::uint8_t> b(C * H * W), bo(C * H * W);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i);
  eqprop::shift_image(b.data(), C, H, W, eqprop::Shift{1, -1, true}, bo.data());
  std::vector<float> bf(b.begin(), b.end()), bfo(b.size());
  eqprop::shift_image(bf.data(), C, H, W, eqprop::Shift{1, -1, true}, bfo.data());
  CHECK(std::vector<float>(bo.begin(), bo.end()) == bfo);
}

TEST_CASE("draw_shift with flip: half the examples mirrored, the shifts unchanged") {
  int flips = 0;
  for (int example = 0; example < 10000; ++example) {
    const eqprop::Shift with = eqprop::draw_shift(5, 2, example, 2, true);
    const eqprop::Shift without = eqprop::draw_shift(5, 2, example, 2, false);
    REQUIRE(with.dx == without.dx);
    REQUIRE(with.dy == without.dy);
    CHECK(!without.flip);
    flips += with.flip;
    CHECK(eqprop::draw_shift(5, 2, example, 0, true).flip == with.flip);  // flips do not depend on max-shift
  }
  CHECK(flips > 4700);  // 5000 expected, standard deviation 50
  CHECK(flips < 5300);
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
