// The products of a convolutional layer over a chunk of examples, through im2col and gemm:
// the convolution (bottom-up), its transpose (top-down), the 2x2 max-pool with the positions
// it chose and their unpooling, and the weight gradient. Layouts as PyTorch's: states C x H x W
// per example, rows of examples one after another; weights C_out x C_in x K x K. Stride 1,
// zero padding. ep/conv_reference.hpp has the same operations as plain loops; the tests hold
// these to them.
#pragma once
#include <cstddef>
#include <cstdint>

#include "eqprop/architecture.hpp"

namespace eqprop {

struct ConvGeometry {
  int ci = 0, h = 0, w = 0;   // input C x H x W
  int co = 0, k = 0, pad = 0; // output channels, K x K kernel, padding
  int ho = 0, wo = 0;         // convolution output (before the pool)
  int pool = 1;               // 2: a 2x2 max-pool of stride 2 (floor), 1: none
  std::size_t in_size() const { return std::size_t(ci) * h * w; }
  std::size_t patch() const { return std::size_t(ci) * k * k; }          // rows of the im2col matrix
  std::size_t positions() const { return std::size_t(ho) * wo; }         // its columns
  std::size_t conv_size() const { return std::size_t(co) * positions(); }
  std::size_t out_size() const { return std::size_t(co) * (ho / pool) * (wo / pool); }  // after the pool
};
ConvGeometry conv_geometry(const Shape& in, const LayerSpec& spec);

// col [patch x positions] := the input patches of one example (zeros in the padding).
template <typename T>
void im2col(const ConvGeometry& g, const T* in, T* col);
// in [C_in x H x W] += the patches of col put back (the adjoint of im2col).
template <typename T>
void col2im_add(const ConvGeometry& g, const T* col, T* in);

// z [rows x conv_size] := W * in + b for each of rows examples (in: [rows x in_size]); b may be
// null. col: scratch of patch x positions. skinny: the product by skinny_gemm.hpp's loops where
// the CPU has them (float only; each output one fma chain over the patch in order, so a block
// of output channels gets the same bits as the whole layer), else sgemm.
template <typename T>
void conv_forward(const ConvGeometry& g, const T* W, const T* b, int rows, const T* in, T* z, T* col,
                  bool skinny = false);
// in_grad [rows x in_size] += the transposed convolution of gz [rows x conv_size] (no bias).
// Wt: null (sgemm), or W^T [patch x C_out] for the skinny loops (float, where the CPU has them).
template <typename T>
void conv_transpose_add(const ConvGeometry& g, const T* W, int rows, const T* gz, T* in_grad, T* col,
                        const T* Wt = nullptr);
// dW [C_out x patch] += c sum_rows gz (x) patches(in), db [C_out] += c sum of gz over positions
// (db may be null). cols: scratch of patch x (rows * positions).
template <typename T>
void conv_weight_grad_add(const ConvGeometry& g, int rows, const T* in, const T* gz, T c, T* dW, T* db, T* cols);

// out [rows x C x H/2 x W/2] := (add: +=) the 2x2 max-pool of z [rows x C x H x W]; arg[i] :=
// the index within the example's z of output i's maximum: the first in row-major order on
// ties. out may be null (the choices only).
template <typename T>
void max_pool2(int rows, int c, int h, int w, const T* z, T* out, std::int32_t* arg, bool add = false);
// gz [rows x z_size] := zeros with g [rows x out_size] at the positions arg chose.
template <typename T>
void unpool(int rows, std::size_t out_size, std::size_t z_size, const T* g, const std::int32_t* arg, T* gz);

}  // namespace eqprop
