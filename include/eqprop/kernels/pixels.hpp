// Pixels: images stay bytes in memory (a quarter of float32's size) and become the input
// values b / 255 where a chunk task reads them. The value of byte b is the float
// static_cast<float>(b) / 255.0f, computed once into a table of 256 entries at compile time.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "eqprop/data_facts.hpp"

namespace eqprop {

namespace detail {
constexpr std::array<float, 256> make_pixel_values() {
  std::array<float, 256> v{};
  for (int b = 0; b < 256; ++b) v[b] = static_cast<float>(b) / 255.0f;
  return v;
}
inline constexpr std::array<float, 256> kPixelValues = make_pixel_values();
}  // namespace detail

// The input value of a pixel byte, in [0, 1].
inline float pixel_value(std::uint8_t b) { return detail::kPixelValues[b]; }


// How an example's stored values become input values, per channel (the input layer is clamped
// to these; the dynamics see them as they are, with no rho applied: for values in [0, 1] that
// is the paper's rho(x)). A byte b of channel c becomes byte_table(c)[b]: b / 255, or with
// normalisation (b / 255 - mean[c]) / stddev[c]. A float32 v becomes v, or (v - mean[c]) / stddev[c].
class InputCoding {
 public:
  InputCoding() : InputCoding(DataFacts{}) {}
  explicit InputCoding(const DataFacts& f);
  int channels() const { return channels_; }
  int plane() const { return plane_; }
  bool normalized() const { return !mean_.empty(); }
  const float* byte_table(int c) const { return table_.data() + std::size_t(256) * c; }
  float value(int c, float v) const { return normalized() ? (v - mean_[c]) / stddev_[c] : v; }

 private:
  int channels_ = 1, plane_ = 0;
  std::vector<float> mean_, stddev_;
  std::vector<float> table_;  // [channels x 256]
};

inline InputCoding::InputCoding(const DataFacts& f)
    : channels_(f.channels), plane_(f.plane()), mean_(f.mean), stddev_(f.stddev), table_(std::size_t(256) * f.channels) {
  for (int c = 0; c < channels_; ++c)
    for (int b = 0; b < 256; ++b)
      table_[std::size_t(256) * c + b] =
          normalized() ? (pixel_value(std::uint8_t(b)) - mean_[c]) / stddev_[c] : pixel_value(std::uint8_t(b));
}

}  // namespace eqprop
