#include "eqprop/io/augment.hpp"

#include <algorithm>
#include <cstring>

#include "eqprop/mnist_shape.hpp"

namespace eqprop {
namespace {
// splitmix64's finaliser: a bijection on 64 bits whose output bits each depend on every input bit.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
constexpr int kSide = kImageSide;
}  // namespace

Shift draw_shift(std::uint64_t seed, int epoch, int example, int max_shift) {
  if (max_shift <= 0) return {};
  const std::uint64_t key = (std::uint64_t(std::uint32_t(epoch)) << 32) | std::uint32_t(example);
  const std::uint64_t h = mix(mix(seed) ^ key);
  // Each half is 32 random bits; taking it modulo 2K+1 <= 9 favours some values by at most
  // 9 / 2^32, far below anything a training run could show.
  const std::uint64_t n = std::uint64_t(2 * max_shift + 1);
  return {int((h & 0xffffffffull) % n) - max_shift, int((h >> 32) % n) - max_shift};
}

void shift_image(const std::uint8_t* in, Shift s, std::uint8_t* out) {
  std::fill(out, out + kInputs, std::uint8_t(0));
  // Output columns [c0, c1) read input columns shifted by -dx; likewise the rows.
  const int c0 = std::max(0, s.dx), c1 = std::min(kSide, kSide + s.dx);
  const int r0 = std::max(0, s.dy), r1 = std::min(kSide, kSide + s.dy);
  if (c0 >= c1) return;
  for (int r = r0; r < r1; ++r)
    std::memcpy(out + r * kSide + c0, in + (r - s.dy) * kSide + (c0 - s.dx), std::size_t(c1 - c0));
}

}  // namespace eqprop
