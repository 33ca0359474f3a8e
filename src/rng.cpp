#include "eqprop/rng.hpp"

namespace eqprop {
namespace {
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
}  // namespace

Rng::Rng(std::uint64_t seed) {
  // splitmix64 spreads any seed (even 0) over the 256-bit state, as xoshiro's authors advise.
  for (auto& w : s_) w = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

float Rng::uniform01() { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
double Rng::uniform01_double() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
int Rng::sign() { return (next() >> 63) ? 1 : -1; }

std::uint64_t Rng::below(std::uint64_t n) {
  // Rejection sampling: drop the top partial copy of [0, n) so every value is equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  std::uint64_t x;
  do {
    x = next();
  } while (x >= limit);
  return x % n;
}

void Rng::shuffle(std::vector<std::int32_t>& v) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(below(i));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace eqprop
