// Fuzz target: the .npy/.npz reader (npy.hpp) on raw bytes, as an archive and as a lone .npy.
// A DataError is the expected answer to a bad file; any other exception, a crash or a
// sanitizer report is a finding. What parses must be self-consistent.
#include <cstdint>
#include <string>

#include "eqprop/error.hpp"
#include "eqprop/io/npy.hpp"

namespace {
void check(const eqprop::NpyTensor& t) {
  if (t.bytes.size() != t.count() * eqprop::item_bytes(t.type)) __builtin_trap();
  for (std::size_t i = 0; i < t.count() && i < 64; ++i) (void)t.real(i);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& t : eqprop::parse_npz(bytes, "fuzz.npz")) check(t);
  } catch (const eqprop::DataError&) {
  }
  try {
    check(eqprop::parse_npy(bytes, "fuzz.npy"));
  } catch (const eqprop::DataError&) {
  }
  return 0;
}
