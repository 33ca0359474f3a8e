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
    for (float v : img.pixels)
      if (!(v >= 0.f && v <= 1.f)) __builtin_trap();  // pixels must come out in [0,1]
  } catch (const eqprop::DataError&) {
  }
  try {
    for (auto label : eqprop::read_idx_labels(path))
      if (label > 9) __builtin_trap();
  } catch (const eqprop::DataError&) {
  }
  return 0;
}
