// Fuzz target: the checkpoint reader. With the first byte even the input is the whole file
// (header checks, checksum); with it odd the input is a payload that gets a correct header
// and CRC-32, so the Boost decoder and the consistency checks behind the checksum are
// reached too. A CheckpointError is the expected answer to a bad file.
#include <zlib.h>

#include <cstdint>
#include <string>

#include "eqprop/io/checkpoint.hpp"
#include "fuzz_input_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string file;
  if (data[0] & 1) {
    const std::string payload(reinterpret_cast<const char*>(data + 1), size - 1);
    file.assign("EQPROPCK", 8);
    auto put = [&](std::uint64_t v, int bytes) {
      for (int i = 0; i < bytes; ++i) file.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    };
    put(1, 4);                                   // format version
    put(payload.size() > 0 ? payload[0] & 1 : 0, 4);  // flags: particles or not
    put(payload.size(), 8);
    put(crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())), 4);
    put(0, 4);
    file += payload;
  } else {
    file.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  }
  const std::string& path = write_fuzz_input(reinterpret_cast<const std::uint8_t*>(file.data()), file.size());
  try {
    eqprop::load_checkpoint(path);
  } catch (const eqprop::CheckpointError&) {
  }
  return 0;
}
