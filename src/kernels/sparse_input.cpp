#include "eqprop/kernels/sparse_input.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>

#include "eqprop/kernels/clones.hpp"
#include "eqprop/kernels/pixels.hpp"
#include "eqprop/kernels/row_kernels.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EQPROP_BYTE_FILL_AVX2 1
#endif

namespace eqprop {

#if EQPROP_BYTE_FILL_AVX2
namespace {
// For each mask of 8 pixels (bit j: pixel j nonzero): how many nonzero pixels come before pixel
// j, and the positions of the nonzero ones, packed to the front.
struct ByteMaskTables {
  std::uint8_t before[256][8];
  std::uint8_t packed[256][8];
};
constexpr ByteMaskTables make_byte_mask_tables() {
  ByteMaskTables t{};
  for (int m = 0; m < 256; ++m) {
    int c = 0;
    for (int j = 0; j < 8; ++j) {
      t.before[m][j] = static_cast<std::uint8_t>(c);
      if (m >> j & 1) t.packed[m][c++] = static_cast<std::uint8_t>(j);
    }
  }
  return t;
}
constexpr ByteMaskTables kByteMasks = make_byte_mask_tables();

// set_row(i, bytes) for float, 8 pixels at a time: the scalar loop's entries (about 3x as fast
// on an AVX2 EPYC: the fill of a minibatch's inputs runs before the drive, on every thread).
// b / 255.f in vectors is the table's value: IEEE division is exact-rounded either way. Writes
// up to 8 slots past the row's last entry, inside the row's n0 slots (entry n <= unit u).
// Returns the units done (a multiple of 8); n: the entries so far.
__attribute__((target("avx2,popcnt"))) int fill_bytes_avx2(const std::uint8_t* x, int n0, int* unit, float* value,
                                                            int* before, int& n) {
  const __m256 scale = _mm256_set1_ps(255.0f);
  int u = 0;
  for (; u + 8 <= n0; u += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x + u));
    const unsigned nonzero = ~unsigned(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, _mm_setzero_si128()))) & 0xFFu;
    const __m256i ahead = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(kByteMasks.before[nonzero])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(before + u), _mm256_add_epi32(_mm256_set1_epi32(n), ahead));
    const __m256i pick = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(kByteMasks.packed[nonzero])));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(unit + n), _mm256_add_epi32(_mm256_set1_epi32(u), pick));
    const __m256 v = _mm256_div_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes)), scale);
    _mm256_storeu_ps(value + n, _mm256_permutevar8x32_ps(v, pick));
    n += __builtin_popcount(nonzero);
  }
  return u;
}
}  // namespace
#endif

template <typename T>
void SparseInput<T>::dense_rows(int first, int rows, T* out) const {
  std::fill(out, out + std::size_t(rows) * n0_, T(0));
  for (int i = 0; i < rows; ++i) {
    const std::size_t begin = row_begin(first + i);
    for (int e = 0; e < row_count_[first + i]; ++e) out[std::size_t(i) * n0_ + row_unit_[begin + e]] = row_value_[begin + e];
  }
}

template <typename T>
void SparseInput<T>::reset(int rows, int n0) {
  rows_ = rows;
  n0_ = n0;
  row_count_.assign(rows, 0);
  const std::size_t all = std::size_t(rows) * n0;
  if (row_unit_.size() < all) {
    row_unit_.resize(all);
    row_value_.resize(all);
  }
  if (row_before_.size() < std::size_t(rows) * (n0 + 1)) row_before_.resize(std::size_t(rows) * (n0 + 1));
}

template <typename T>
void SparseInput<T>::set_row(int i, const T* x_row) {
  // Branch-free: every value is written and the cursor moves past the nonzero ones. About a
  // fifth of MNIST's pixels are nonzero, in no order a branch predictor could learn.
  int* unit = row_unit_.data() + row_begin(i);
  T* value = row_value_.data() + row_begin(i);
  int* before = row_before_.data() + std::size_t(i) * (n0_ + 1);
  int n = 0;
  for (int u = 0; u < n0_; ++u) {
    unit[n] = u;
    value[n] = x_row[u];
    before[u] = n;
    n += x_row[u] != T(0);
  }
  before[n0_] = n;
  row_count_[i] = n;
}

template <typename T>
void SparseInput<T>::set_row(int i, const std::uint8_t* x_row) {
  // As set_row above, with the pixel's value from the table.
  int* unit = row_unit_.data() + row_begin(i);
  T* value = row_value_.data() + row_begin(i);
  int* before = row_before_.data() + std::size_t(i) * (n0_ + 1);
  int n = 0, u = 0;
#if EQPROP_BYTE_FILL_AVX2
  // Fixed per machine, so never a source of differing results: both ways give the same entries.
  static const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  if constexpr (std::is_same_v<T, float>)
    if (avx2) u = fill_bytes_avx2(x_row, n0_, unit, value, before, n);
#endif
  for (; u < n0_; ++u) {
    unit[n] = u;
    value[n] = static_cast<T>(pixel_value(x_row[u]));
    before[u] = n;
    n += x_row[u] != 0;
  }
  before[n0_] = n;
  row_count_[i] = n;
}

template <typename T>
void SparseInput<T>::set_row(int i, const std::uint8_t* x_row, const InputCoding& code) {
  // Without normalisation every channel's table is b / 255, zero exactly for byte 0: the
  // plain byte loop (a third fewer instructions than the table's float compare).
  if (!code.normalized()) return set_row(i, x_row);
  int* unit = row_unit_.data() + row_begin(i);
  T* value = row_value_.data() + row_begin(i);
  int* before = row_before_.data() + std::size_t(i) * (n0_ + 1);
  int n = 0;
  const int plane = code.plane();
  for (int c = 0; c < code.channels(); ++c) {
    const float* table = code.byte_table(c);
    for (int u = c * plane; u < (c + 1) * plane; ++u) {
      const T v = static_cast<T>(table[x_row[u]]);
      unit[n] = u;
      value[n] = v;
      before[u] = n;
      n += v != T(0);
    }
  }
  before[n0_] = n;
  row_count_[i] = n;
}

template <typename T>
void SparseInput<T>::set_row(int i, const float* x_row, const InputCoding& code) {
  int* unit = row_unit_.data() + row_begin(i);
  T* value = row_value_.data() + row_begin(i);
  int* before = row_before_.data() + std::size_t(i) * (n0_ + 1);
  int n = 0;
  const int plane = code.plane();
  for (int c = 0; c < code.channels(); ++c) {
    for (int u = c * plane; u < (c + 1) * plane; ++u) {
      const T v = static_cast<T>(code.value(c, x_row[u]));
      unit[n] = u;
      value[n] = v;
      before[u] = n;
      n += v != T(0);
    }
  }
  before[n0_] = n;
  row_count_[i] = n;
}

template <typename T>
void SparseInput<T>::assign(const T* x, int rows, int n0) {
  reset(rows, n0);
  for (int i = 0; i < rows; ++i) set_row(i, x + std::size_t(i) * n0);
}

template <typename T>
void SparseInput<T>::assign(const std::uint8_t* x, int rows, int n0) {
  reset(rows, n0);
  for (int i = 0; i < rows; ++i) set_row(i, x + std::size_t(i) * n0);
}

template <typename T>
long SparseInput<T>::nonzeros() const {
  long n = 0;
  for (int i = 0; i < rows_; ++i) n += row_count_[i];
  return n;
}

template <typename T>
void UnitLists<T>::build(const SparseInput<T>& x, int first_unit, int end_unit) {
  u0 = first_unit;
  u1 = end_unit;
  start.assign(std::size_t(u1 - u0) + 1, 0);
  // A sample's entries are in unit order: its entries in [u0, u1) are one run.
  auto run = [&](int i) {
    const int* begin = x.row_unit().data() + x.row_begin(i);
    if (x.row_count(i) == 0) return std::pair<const int*, const int*>(begin, begin);  // never set
    return std::pair<const int*, const int*>(begin + x.row_before(i)[u0], begin + x.row_before(i)[u1]);
  };
  for (int i = 0; i < x.rows(); ++i) {
    const auto [lo, hi] = run(i);
    for (const int* e = lo; e != hi; ++e) ++start[*e - u0 + 1];
  }
  for (int u = 0; u < u1 - u0; ++u) start[u + 1] += start[u];
  sample.resize(start.back());
  value.resize(start.back());
  // Visiting the samples in order leaves each unit's entries in sample order; start[u] serves
  // as unit u's cursor and ends one unit on, so it is shifted back after.
  for (int i = 0; i < x.rows(); ++i) {
    const auto [lo, hi] = run(i);
    const T* v = x.row_value().data() + (lo - x.row_unit().data());
    for (const int* e = lo; e != hi; ++e, ++v) {
      const int slot = start[*e - u0]++;
      sample[slot] = i;
      value[slot] = *v;
    }
  }
  for (int u = u1 - u0; u > 0; --u) start[u] = start[u - 1];
  start[0] = 0;
}

namespace {

constexpr int kBlockColumns = 64;

// The two kernels below are short loops over a row of W_1, limited by loads and stores:
// compiled per x86-64 level (clones.hpp).

// A whole block of float columns for one sample, its sums in registers from the bias to the
// last nonzero: eight 32-byte vectors, eight independent chains of fused multiply-adds, one
// per 8 columns, each over the sample's nonzeros in unit order. add_scaled_rows adds the same
// terms in the same order but stores the sums every four rows and loads them back, with that
// store and load on the chain (net1 trains 1.03x as fast this way on an AVX2 EPYC).
EQPROP_KERNEL void drive_block_in_registers(const int* unit, const float* value, int count, const float* W,
                                            std::size_t ld, const float* bias, float* out) {
  constexpr int kBytes = 32;
  constexpr int L = kBytes / int(sizeof(float));
  constexpr int P = kBlockColumns / L;
  static_assert(P * L == kBlockColumns, "a block is whole vectors");
  typedef float Vec __attribute__((vector_size(kBytes)));
  typedef float Unaligned __attribute__((vector_size(kBytes), aligned(alignof(float))));
  Vec acc[P];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) std::memcpy(&acc[p], bias + p * L, sizeof(Vec));
  for (int e = 0; e < count; ++e) {
    // As vectors: with float offsets GCC kept each of the eight in a register and spilled.
    const Unaligned* w = reinterpret_cast<const Unaligned*>(W + std::size_t(unit[e]) * ld);
    const float v = value[e];
#pragma GCC unroll 8
    for (int p = 0; p < P; ++p) acc[p] += v * w[p];
  }
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p) std::memcpy(out + p * L, &acc[p], sizeof(Vec));
}

// sparse_drive_part's loop: the entries of units [u0, u1) of each row, from the bias (u0 == 0)
// or from the row's sums so far. The whole drive is the part over [0, n0).
EQPROP_KERNEL void drive_part_kernel(const SparseInput<float>& x, int first, int rows, const float* W, const float* bias,
                                     int n1, float* drive1, int col0, int cols, int u0, int u1) {
  for (int i = first; i < first + rows; ++i) {
    float* out = drive1 + std::size_t(i) * n1 + col0;
    // The ends of the row need no look-up (row_before() is not valid for a row never set).
    const int count = x.row_count(i);
    const int e0 = u0 == 0 || count == 0 ? 0 : x.row_before(i)[u0];
    const int e1 = u1 == x.units() || count == 0 ? count : x.row_before(i)[u1];
    const int* unit = x.row_unit().data() + x.row_begin(i) + e0;
    const float* value = x.row_value().data() + x.row_begin(i) + e0;
    const float* init = u0 == 0 ? bias + col0 : out;
    if (cols == kBlockColumns) {
      drive_block_in_registers(unit, value, e1 - e0, W + col0, std::size_t(n1), init, out);
      continue;
    }
    if (u0 == 0) std::memcpy(out, init, std::size_t(cols) * sizeof(float));
    add_scaled_rows(out, cols, W + col0, std::size_t(n1), unit, value, e1 - e0);
  }
}

template <typename T>
EQPROP_KERNEL void drive_kernel(const SparseInput<T>& x, int first, int rows, const T* W, const T* bias, int n1, T* drive1,
                                int col0, int cols) {
  if constexpr (std::is_same_v<T, float>) {
    drive_part_kernel(x, first, rows, W, bias, n1, drive1, col0, cols, 0, x.units());
  } else {
    for (int i = first; i < first + rows; ++i) {
      T* out = drive1 + std::size_t(i) * n1 + col0;
      std::memcpy(out, bias + col0, std::size_t(cols) * sizeof(T));
      add_scaled_rows(out, cols, W + col0, std::size_t(n1), x.row_unit().data() + x.row_begin(i),
                      x.row_value().data() + x.row_begin(i), x.row_count(i));
    }
  }
}

// W_1 row u += c * sum_i x[i][u] diff1[i]: the same loop with the sample's row of diff1 in
// place of a row of W_1, and the values scaled by c first.
template <typename T>
EQPROP_KERNEL void update_kernel(const UnitLists<T>& lists, const T* diff1, T c, T* W, int n1) {
  constexpr int kStep = 64;  // entries scaled at a time (a unit has one per sample at most)
  T scaled[kStep];
  const int* sample = lists.sample.data();
  const T* value = lists.value.data();
  for (int u = lists.u0; u < lists.u1; ++u) {
    T* out = W + std::size_t(u) * n1;
    const int end = lists.start[u - lists.u0 + 1];
    for (int e = lists.start[u - lists.u0]; e < end; e += kStep) {
      const int count = std::min(kStep, end - e);
      for (int q = 0; q < count; ++q) scaled[q] = c * value[e + q];
      add_scaled_rows(out, n1, diff1, std::size_t(n1), sample + e, scaled, count);
    }
  }
}


// One column block per call (kept out of the clone: with the block loop inside it, GCC 12
// compiled the inner loop about 2x slower).
EQPROP_CLONES void drive_block(const SparseInput<float>& x, int first, int rows, const float* W, const float* b,
                               int n1, float* d, int c0, int cols) {
  drive_kernel(x, first, rows, W, b, n1, d, c0, cols);
}
EQPROP_CLONES void drive_block(const SparseInput<double>& x, int first, int rows, const double* W, const double* b,
                               int n1, double* d, int c0, int cols) {
  drive_kernel(x, first, rows, W, b, n1, d, c0, cols);
}

EQPROP_CLONES void drive_part(const SparseInput<float>& x, int first, int rows, const float* W, const float* b, int n1,
                              float* d, int c0, int cols, int u0, int u1) {
  drive_part_kernel(x, first, rows, W, b, n1, d, c0, cols, u0, u1);
}

}  // namespace

int sparse_drive_blocks(int n1) { return (n1 + kBlockColumns - 1) / kBlockColumns; }

void sparse_drive_part(const SparseInput<float>& x, int first, int rows, const float* W1, const float* b1, int n1,
                       float* drive1, int block, int u0, int u1) {
  const int c0 = block * kBlockColumns;
  drive_part(x, first, rows, W1, b1, n1, drive1, c0, std::min(kBlockColumns, n1 - c0), u0, u1);
}

// Column blocks of W1 of kBlockColumns (a multiple of 16 floats: whole AVX-512 vectors): 784
// rows of one block are 200 KB, which the L2 cache holds while every row of x reads it.
template <typename T>
void sparse_drive_blocks(const SparseInput<T>& x, int first, int rows, const T* W1, const T* b1, int n1, T* drive1) {
  for (int c0 = 0; c0 < n1; c0 += kBlockColumns)
    drive_block(x, first, rows, W1, b1, n1, drive1, c0, std::min(kBlockColumns, n1 - c0));
}
void sparse_drive(const SparseInput<float>& x, int first, int rows, const float* W1, const float* b1, int n1,
                  float* drive1) {
  sparse_drive_blocks(x, first, rows, W1, b1, n1, drive1);
}
void sparse_drive(const SparseInput<double>& x, int first, int rows, const double* W1, const double* b1, int n1,
                  double* drive1) {
  sparse_drive_blocks(x, first, rows, W1, b1, n1, drive1);
}

// The update's public entry points are its clones (clones.hpp), one per scalar type.
EQPROP_CLONES void sparse_outer_update(const UnitLists<float>& lists, const float* diff1, float c, float* W1, int n1) {
  update_kernel(lists, diff1, c, W1, n1);
}
EQPROP_CLONES void sparse_outer_update(const UnitLists<double>& lists, const double* diff1, double c, double* W1,
                                       int n1) {
  update_kernel(lists, diff1, c, W1, n1);
}

template class SparseInput<float>;
template class SparseInput<double>;
template struct UnitLists<float>;
template struct UnitLists<double>;

}  // namespace eqprop
