// The products of a relaxation step between two wide layers: C [rows x n] (+)= A [rows x K]
// B [K x n], row-major, for a chunk's rows (a training chunk is 10 samples, an evaluation
// chunk 250). OpenBLAS packs A into 16-row panels and B into blocks on every call, so at 10
// rows sgemm runs at about 40 % of its large-matrix rate (net2's 500 x 500 layers, AMD EPYC);
// these loops keep the partial sums of up to 12 rows for a block of columns in vector
// registers and stream B once per such block of rows, one panel of 64 columns at a time so
// that the panel stays in the L2 cache for the next block of rows (AVX2 takes 6 rows a block).
//
// Every C[i][j] is one chain of fused multiply-adds over k in order, starting from C[i][j]
// (accumulate) or from 0: the AVX-512 and AVX2 paths give the same bits, on any row or column
// blocking. Machines without FMA (and double precision) keep sgemm: skinny_available() says.
#pragma once
#include <cstddef>

namespace eqprop {

// True when the CPU has AVX2 and FMA (the loops' lowest level) and rows >= 1.
bool skinny_available(int rows);

// C = (accumulate ? C : 0) + A B, each element's sum in k order. Requires skinny_available(rows).
void skinny_gemm(int rows, int n, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc,
                 bool accumulate);

// The vector paths, for the tests: each gives the bits of the scalar chain of std::fma.
enum class SkinnyPath { Avx2, Avx512 };
bool skinny_path_available(SkinnyPath path);
void skinny_gemm_on(SkinnyPath path, int rows, int n, int K, const float* A, int lda, const float* B, int ldb, float* C,
                    int ldc, bool accumulate);

// B packed for the AVX2 loops: on a CPU whose widest path is AVX2 they read B with a stride of
// a whole row per k, and a copy in 16-column panels ([ceil(n/16)][K][16], the last panel's
// missing columns 0) read contiguously ran the 10 x 496 x 496 product at 68-72 GFLOP/s against
// 52-57 (tools/skinny_packing.cpp, AMD EPYC without AVX-512). The AVX-512 path reads B in place.
// skinny_packs(): whether skinny_gemm_packed is this CPU's path (the caller then keeps a copy).
bool skinny_packs();
std::size_t packed_floats(int K, int n);
void pack_panels(int K, int n, const float* B, int ldb, float* P /*packed_floats(K, n)*/);
// C = (accumulate ? C : 0) + A B with B given as pack_panels made it: the bits of skinny_gemm.
// Requires skinny_path_available(SkinnyPath::Avx2) and rows >= 1 (else std::logic_error).
void skinny_gemm_packed(int rows, int n, int K, const float* A, int lda, const float* P, float* C, int ldc,
                        bool accumulate);

// dst [cols x rows] = src [rows x cols]^T (dst row stride rows), blocked for the caches: the
// copy of W_k^T that the top-down product reads as its B.
void transpose(int rows, int cols, const float* src, float* dst);

}  // namespace eqprop
