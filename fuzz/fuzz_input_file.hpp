// The readers under test take file paths, so each input is written to one file per fuzzing
// process (in TMPDIR), reused from run to run.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>

inline const std::string& fuzz_input_path() {
  static const std::string path = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp ? tmp : "/tmp") + "/eqprop-fuzz-" + std::to_string(getpid());
  }();
  return path;
}

inline const std::string& write_fuzz_input(const std::uint8_t* data, std::size_t size) {
  std::ofstream(fuzz_input_path(), std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return fuzz_input_path();
}
