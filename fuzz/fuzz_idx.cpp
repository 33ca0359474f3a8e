// Fuzz target: the IDX reader, raw and gzip. A DataError is the expected answer to a bad
// file; any other exception, a crash or a sanitizer report is a finding.
#include <cstdint>

#include "eqprop/error.hpp"
#include "eqprop/io/idx.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = write_fuzz_input(data, size);
  try {
    const auto img = eqprop::read_idx_images(path);
    if (img.pixels.size() != std::size_t(img.count) * img.rows * img.cols) __builtin_trap();
  } catch (const eqprop::DataError&) {
  }
  try {
    (void)eqprop::read_idx_labels(path);
  } catch (const eqprop::DataError&) {
  }
  try {  // any dims, bytes or float32
    const auto a = eqprop::read_idx(path);
    std::size_t n = 1;
    for (auto d : a.dims) n *= d;
    if ((a.is_float ? a.floats.size() : a.bytes.size()) != n) __builtin_trap();
  } catch (const eqprop::DataError&) {
  }
  return 0;
}
