// Pixels: images stay bytes in memory (a quarter of float32's size) and become the input
// values b / 255 where a chunk task reads them. The value of byte b is the float
// static_cast<float>(b) / 255.0f, computed once into a table of 256 entries at compile time.
#pragma once
#include <array>
#include <cstdint>

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

}  // namespace eqprop
