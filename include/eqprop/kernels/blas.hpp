// gemm(): row-major C = alpha * op(A) op(B) + beta * C through OpenBLAS's cblas, overloaded
// for float (training) and double (tests of the theory).
#pragma once
#include <cblas.h>

namespace eqprop {

enum class Trans { No, Yes };

inline void gemm(Trans ta, Trans tb, int M, int N, int K, float alpha, const float* A, int lda,
                 const float* B, int ldb, float beta, float* C, int ldc) {
  cblas_sgemm(CblasRowMajor, ta == Trans::Yes ? CblasTrans : CblasNoTrans,
              tb == Trans::Yes ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(Trans ta, Trans tb, int M, int N, int K, double alpha, const double* A, int lda,
                 const double* B, int ldb, double beta, double* C, int ldc) {
  cblas_dgemm(CblasRowMajor, ta == Trans::Yes ? CblasTrans : CblasNoTrans,
              tb == Trans::Yes ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// TBB owns all parallelism: OpenBLAS must not start threads of its own inside a task.
inline void blas_single_threaded() { openblas_set_num_threads(1); }

}  // namespace eqprop
