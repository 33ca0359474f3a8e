// The nonzero entries of a block of input rows, and the two products of layer 1 that read
// the input: the clamped drive x W_1 + b_1 and the update W_1 += c x^T D.
//
// Why: an MNIST image has about 150 nonzero pixels of 784. Dense, these two products are
// about 75 % of a net1 training sample's arithmetic (2 x 784 x 500 multiply-adds of 2.07 M);
// over the nonzeros they are a fifth of that. The skipped terms are exact zeros, so the
// results are the dense products' up to the order of the additions.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "eqprop/kernels/pixels.hpp"

namespace eqprop {

template <typename T>
class SparseInput {
 public:
  // Room for `rows` samples of n0 inputs, all empty. Reuses its buffers: after the first call
  // with the largest block, nothing is allocated.
  void reset(int rows, int n0);
  // Lists the nonzeros of sample i (x_row: n0 values). Each sample owns its own slots, so
  // tasks may fill different samples at the same time.
  void set_row(int i, const T* x_row);
  // The same from pixel bytes: sample i's values are pixel_value(x_row[u]) (pixels.hpp).
  void set_row(int i, const std::uint8_t* x_row);
  // The same with the values of a coding (n0 = code.channels() x code.plane()): from bytes
  // through its tables, from float32 through its normalisation. With MNIST's coding the byte
  // form gives the same values as set_row(i, bytes).
  void set_row(int i, const std::uint8_t* x_row, const InputCoding& code);
  void set_row(int i, const float* x_row, const InputCoding& code);
  // reset(rows, n0), then every row of x ([rows x n0], row-major), values or pixel bytes.
  void assign(const T* x, int rows, int n0);
  void assign(const std::uint8_t* x, int rows, int n0);
  // out [rows x n0] := samples [first, first + rows) with their zeros (for a conv layer 1).
  void dense_rows(int first, int rows, T* out) const;
  int rows() const { return rows_; }
  int units() const { return n0_; }
  long nonzeros() const;

  // By sample: sample i's entries are row_unit()[row_begin(i) + e] (in unit order) and
  // row_value()[...] for e < row_count(i).
  std::size_t row_begin(int i) const { return std::size_t(i) * n0_; }
  int row_count(int i) const { return row_count_[i]; }
  const std::vector<int>& row_unit() const { return row_unit_; }
  const std::vector<T>& row_value() const { return row_value_; }
  // row_before(i)[u]: how many of sample i's entries come before unit u (u <= n0); filled by
  // set_row, so not valid for a sample left empty since reset() (row_count(i) == 0 says so).
  const int* row_before(int i) const { return row_before_.data() + std::size_t(i) * (n0_ + 1); }

 private:
  int rows_ = 0, n0_ = 0;
  std::vector<int> row_count_;  // [rows]
  std::vector<int> row_unit_;   // [rows x n0]: sample i's slots start at i * n0
  std::vector<T> row_value_;    // [rows x n0]
  std::vector<int> row_before_;  // [rows x (n0 + 1)]: row_before()
};

// The entries of input units [u0, u1) of a SparseInput by unit (CSC): unit u's are
// [start[u - u0], start[u - u0 + 1]) of sample and value, in sample order. Built by the task
// that updates those rows of W_1, so no serial pass indexes the whole minibatch; a task's
// lists own their buffers and reuse them from one minibatch to the next.
template <typename T>
struct UnitLists {
  int u0 = 0, u1 = 0;
  std::vector<int> start;  // [u1 - u0 + 1]
  std::vector<int> sample;
  std::vector<T> value;
  void build(const SparseInput<T>& x, int first_unit, int end_unit);
};

// drive1[i] = b1 + x_i W1 for rows i in [first, first + rows) of x (W1: [n0 x n1], b1: [n1],
// drive1: [x.rows() x n1]). Each output is summed in unit order. The product runs over fixed
// column blocks of W1, so the rows of W1 it reads stay in the L2 cache.
void sparse_drive(const SparseInput<float>& x, int first, int rows, const float* W1, const float* b1, int n1,
                  float* drive1);
void sparse_drive(const SparseInput<double>& x, int first, int rows, const double* W1, const double* b1, int n1,
                  double* drive1);

// One piece of sparse_drive (float): column block `block` (of sparse_drive_blocks(n1), 64
// columns each but the last) of rows [first, first + rows), summed over input units [u0, u1)
// only. From b1 when u0 == 0, else on from the values drive1 holds (the sums over the units
// before u0). Pieces over consecutive unit ranges, in order, give sparse_drive's bits: the
// same additions in the same order, the sum stored and loaded back between them.
// Why: two threads can each read only their own rows of W_1 (the engine's drive pipeline).
int sparse_drive_blocks(int n1);
void sparse_drive_part(const SparseInput<float>& x, int first, int rows, const float* W1, const float* b1, int n1,
                       float* drive1, int block, int u0, int u1);

// W1 rows [lists.u0, lists.u1) += c * (x^T diff1) over those rows, with diff1 [x.rows() x n1]
// and lists built from x. Rows of input units that are 0 in every sample are not touched.
// Each row sums its samples in sample order.
void sparse_outer_update(const UnitLists<float>& lists, const float* diff1, float c, float* W1, int n1);
void sparse_outer_update(const UnitLists<double>& lists, const double* diff1, double c, double* W1, int n1);

}  // namespace eqprop
