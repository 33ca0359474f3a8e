// Helpers of the tests that run the eqprop binary (test_cli, test_cli_runs): run it and
// collect its exit code and output, the data argument, and a tiny run's options.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <doctest/doctest.h>

#include "helpers.hpp"

namespace test {


struct Result {
  int code;
  std::string output;  // stdout and stderr together
};

// `env` (optional): an env(1) prefix such as "OPENBLAS_CORETYPE=PRESCOTT" or "-u NAME".
inline Result run(const std::string& args, const std::string& env = "") {
  const char* bin = std::getenv("EQPROP_BIN");
  REQUIRE_MESSAGE(bin != nullptr, "EQPROP_BIN is not set (run through meson test)");
  const std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string(bin) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

inline std::string data_arg() { return "--data " + test::mnist_dir(); }
inline const char* kTiny = " --train-samples 200 --valid-samples 100 --hidden 20 --test-steps 5";


inline std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace test
