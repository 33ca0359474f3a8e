// Rng: the one random generator of a run (weight init, sign of beta, shuffling).
// Its whole state is four integers, so it can be saved and restored exactly, and it
// gives the same bits with every standard library (std::uniform_* distributions do not).
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace eqprop {

class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1);
  std::uint64_t next();            // xoshiro256**
  float uniform01();               // [0, 1), 24 random bits
  double uniform01_double();       // [0, 1), 53 random bits
  int sign();                      // +1 or -1, each with probability 1/2
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n), n > 0, without modulo bias
  void shuffle(std::vector<std::int32_t>& v);  // Fisher-Yates
  const std::array<std::uint64_t, 4>& state() const { return s_; }
  void set_state(const std::array<std::uint64_t, 4>& s) { s_ = s; }

 private:
  std::array<std::uint64_t, 4> s_;
};

}  // namespace eqprop
