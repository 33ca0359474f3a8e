// Which OpenBLAS kernels eqprop runs (kernels/blas_choice.hpp, app/runtime.hpp): a fallback set
// is replaced only on a CPU with the features of a better one, a known model's set and a
// user's OPENBLAS_CORETYPE are kept, and the eqprop binary really runs the better set.
#include <doctest/doctest.h>

#include <string>

#include "cli_helpers.hpp"
#include "eqprop/kernels/blas_choice.hpp"

using eqprop::better_coretype;
using eqprop::CpuFeatures;

TEST_CASE("a fallback kernel set is replaced by the best one the CPU's features allow") {
  const CpuFeatures none{}, avx2{true, false}, avx512{true, true};
  CHECK(better_coretype("Prescott", avx512) == "SKYLAKEX");
  CHECK(better_coretype("PRESCOTT", avx512) == "SKYLAKEX");  // OpenBLAS's names, any case
  CHECK(better_coretype("Prescott", avx2) == "HASWELL");
  CHECK(better_coretype("Core2", avx2) == "HASWELL");
  CHECK(better_coretype("Sandybridge", avx512) == "SKYLAKEX");
  CHECK(better_coretype("Prescott", none) == "");  // nothing better is safe on this CPU
  CHECK(better_coretype("Nehalem", none) == "");
}

TEST_CASE("a kernel set OpenBLAS chose for a model it knows is kept") {
  const CpuFeatures avx512{true, true};
  for (const char* known : {"Haswell", "SkylakeX", "Cooperlake", "Zen", "SapphireRapids", "Armv8", ""})
    CHECK_MESSAGE(better_coretype(known, avx512) == "", known);
}

TEST_CASE("eqprop train names its kernels; it keeps a user's OPENBLAS_CORETYPE and otherwise improves a fallback") {
  const std::string args = "train " + test::data_arg() + test::kTiny + " --epochs 1 --threads 1";
  const test::Result user = test::run(args, "OPENBLAS_CORETYPE=PRESCOTT");
  REQUIRE_MESSAGE(user.code == 0, user.output);
  CHECK_MESSAGE(test::contains(user.output, "OpenBLAS Prescott kernels"), user.output);

  const test::Result own = test::run(args, "-u OPENBLAS_CORETYPE");
  REQUIRE_MESSAGE(own.code == 0, own.output);
  const std::string key = "OpenBLAS ";
  const auto at = own.output.find(key);
  REQUIRE_MESSAGE(at != std::string::npos, own.output);
  const auto end = own.output.find(" kernels", at);
  REQUIRE(end != std::string::npos);
  const std::string name = own.output.substr(at + key.size(), end - at - key.size());
  INFO("eqprop ran ", name);
  CHECK(better_coretype(name, eqprop::cpu_features()) == "");
}
