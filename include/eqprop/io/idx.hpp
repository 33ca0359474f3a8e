// IDX files (the MNIST format), raw or gzip-compressed: header checks and decoding.
// Every check happens before the pixels are trusted, and the header is never used to
// size an allocation before the file has been shown to hold that many bytes.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace eqprop {

// Any IDX array of unsigned bytes (type 0x08) or big-endian float32 (type 0x0D), 1 to 4
// dimensions; dims[0] is the example count.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  bool is_float = false;
  std::vector<std::uint8_t> bytes;  // the elements of a byte array, as stored
  std::vector<float> floats;        // the elements of a float32 array, in host order
};

// Throws DataError naming the file on a missing file, a magic that is not an IDX byte or float32
// array, bad dimensions, truncation or trailing bytes.
IdxArray read_idx(const std::string& path);

struct IdxImages {
  int count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // [count x rows*cols], row-major, the bytes as stored
};

// Byte images of 3 dimensions and byte labels of 1, as MNIST's. Throw DataError naming the
// file as read_idx does, and on another element type or dimension count.
IdxImages read_idx_images(const std::string& path);
std::vector<std::uint8_t> read_idx_labels(const std::string& path);

}  // namespace eqprop
