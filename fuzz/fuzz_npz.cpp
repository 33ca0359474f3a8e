// Fuzz target: the .npy/.npz reader (npy.hpp) on raw bytes, as an archive and as a lone .npy,
// and the npz data set on top of it (--dataset npz: arrays, shapes, labels, splits). A
// DataError (or for the data set a ConfigError) is the expected answer to a bad file; any
// other exception, a crash or a sanitizer report is a finding. What loads must be
// self-consistent.
#include <cstdint>
#include <string>

#include "eqprop/error.hpp"
#include "eqprop/io/npy.hpp"
#include "eqprop/io/dataset.hpp"
#include "fuzz_input_file.hpp"

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
  try {
    eqprop::Config cfg;
    cfg.dataset = eqprop::DatasetName::Npz;
    cfg.data = write_fuzz_input(data, size);
    cfg.batch = 1;
    cfg.normalize = size % 2 ? eqprop::Normalize::MeanStd : eqprop::Normalize::None;
    const eqprop::Splits s = eqprop::load_splits(cfg);
    for (const eqprop::Dataset* d : {&s.train, &s.valid, &s.test}) {
      const std::size_t values = std::size_t(d->count) * d->inputs();
      if ((d->floats ? d->xf.size() : d->x.size()) != values || d->y.size() != std::size_t(d->count)) __builtin_trap();
      for (auto y : d->y)
        if (y < 0 || y >= s.facts.classes) __builtin_trap();
    }
  } catch (const eqprop::InputError&) {
  }
  return 0;
}
