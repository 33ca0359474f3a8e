// IDX files (the MNIST format), raw or gzip-compressed: header checks and decoding.
// Every check happens before the pixels are trusted, and the header is never used to
// size an allocation before the file has been shown to hold that many bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eqprop {

struct IdxImages {
  int count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // [count x rows*cols], row-major, the bytes as stored
};

// Throw DataError naming the file on a missing file, bad magic, bad dimensions,
// truncation or trailing bytes, and (labels) a value outside 0-9.
IdxImages read_idx_images(const std::string& path);
std::vector<std::uint8_t> read_idx_labels(const std::string& path);

}  // namespace eqprop
