#include "eqprop/io/augment.hpp"

#include <algorithm>
#include <cstring>

namespace eqprop {
namespace {
// splitmix64's finaliser: a bijection on 64 bits whose output bits each depend on every input bit.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kFlipSalt = 0x666c6970666c6970ull;  // "flipflip": the flips' own stream

template <typename T>
void move_image(const T* in, int channels, int height, int width, Shift s, T* out) {
  const int plane = height * width;
  std::fill(out, out + std::size_t(channels) * plane, T(0));
  // Output columns [c0, c1) read input columns shifted by -dx; likewise the rows.
  const int c0 = std::max(0, s.dx), c1 = std::min(width, width + s.dx);
  const int r0 = std::max(0, s.dy), r1 = std::min(height, height + s.dy);
  if (c0 >= c1) return;
  for (int ch = 0; ch < channels; ++ch) {
    const T* src = in + std::size_t(ch) * plane;
    T* dst = out + std::size_t(ch) * plane;
    for (int r = r0; r < r1; ++r) {
      const T* from = src + std::size_t(r - s.dy) * width;
      T* to = dst + std::size_t(r) * width;
      if (!s.flip) {
        std::memcpy(to + c0, from + (c0 - s.dx), std::size_t(c1 - c0) * sizeof(T));
      } else {
        // Mirrored: output column c reads the flipped image's column c - dx, which is input
        // column width - 1 - (c - dx).
        for (int c = c0; c < c1; ++c) to[c] = from[width - 1 - (c - s.dx)];
      }
    }
  }
}
}  // namespace

Shift draw_shift(std::uint64_t seed, int epoch, int example, int max_shift, bool flip) {
  Shift s;
  const std::uint64_t key = (std::uint64_t(std::uint32_t(epoch)) << 32) | std::uint32_t(example);
  if (max_shift > 0) {
    const std::uint64_t h = mix(mix(seed) ^ key);
    // Each half is 32 random bits; taking it modulo 2K+1 <= 17 favours some values by at most
    // 17 / 2^32, far below anything a training run could show.
    const std::uint64_t n = std::uint64_t(2 * max_shift + 1);
    s.dx = int((h & 0xffffffffull) % n) - max_shift;
    s.dy = int((h >> 32) % n) - max_shift;
  }
  if (flip) s.flip = (mix(mix(seed ^ kFlipSalt) ^ key) >> 63) != 0;
  return s;
}

void shift_image(const std::uint8_t* in, int channels, int height, int width, Shift s, std::uint8_t* out) {
  move_image(in, channels, height, width, s, out);
}
void shift_image(const float* in, int channels, int height, int width, Shift s, float* out) {
  move_image(in, channels, height, width, s, out);
}

}  // namespace eqprop
