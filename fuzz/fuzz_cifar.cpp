// Fuzz target: the CIFAR binary reader, the input read as each kind of file. A DataError is the
// expected answer to a bad file; what reads must have labels inside the kind's classes.
#include <cstdint>

#include "eqprop/error.hpp"
#include "eqprop/io/cifar.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = write_fuzz_input(data, size);
  for (auto kind : {eqprop::CifarLabel::Cifar10, eqprop::CifarLabel::Cifar100Coarse, eqprop::CifarLabel::Cifar100Fine}) {
    try {
      const auto c = eqprop::read_cifar_file(path, kind);
      if (c.pixels.size() != std::size_t(c.count) * eqprop::kCifarPixels) __builtin_trap();
      for (auto l : c.labels)
        if (l >= eqprop::cifar_classes(kind)) __builtin_trap();
    } catch (const eqprop::DataError&) {
    }
  }
  return 0;
}
