// The tests' main: the runtime set-up every eqprop command makes (app/runtime.hpp), then doctest.
// OpenBLAS must not start threads of its own inside the engine's tasks.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "eqprop/app/runtime.hpp"
#include "eqprop/kernels/blas.hpp"

int main(int argc, char** argv) {
  eqprop::choose_blas_kernel(argv);  // the kernels eqprop itself runs, so CLI and in-process results agree
  eqprop::blas_single_threaded();
  return doctest::Context(argc, argv).run();
}
