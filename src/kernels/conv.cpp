#include "eqprop/kernels/conv.hpp"

#include <algorithm>
#include <cstring>

#include <type_traits>

#include "eqprop/kernels/blas.hpp"
#include "eqprop/kernels/skinny_gemm.hpp"

namespace eqprop {

ConvGeometry conv_geometry(const Shape& in, const LayerSpec& spec) {
  ConvGeometry g;
  g.ci = in.c;
  g.h = in.h;
  g.w = in.w;
  g.co = spec.size;
  g.k = spec.kernel;
  g.pad = spec.padding;
  g.ho = conv_out(in.h, spec);
  g.wo = conv_out(in.w, spec);
  g.pool = spec.pool;
  return g;
}

template <typename T>
void im2col(const ConvGeometry& g, const T* in, T* col) {
  // Row (c, ky, kx) of col holds in[c][y + ky - pad][x + kx - pad] for every output (y, x).
  if (g.pad == 0) {
    // No padding: every row of a patch row is a plain copy. The rows are short (8 floats in
    // conv-mnist's second layer), so the bounds arithmetic of the general loop below cost
    // as much as the copies; this loop has none.
    T* out = col;
    for (int c = 0; c < g.ci; ++c)
      for (int ky = 0; ky < g.k; ++ky) {
        const T* plane = in + (std::size_t(c) * g.h + ky) * g.w;
        for (int kx = 0; kx < g.k; ++kx) {
          const T* src = plane + kx;
          for (int y = 0; y < g.ho; ++y, out += g.wo, src += g.w)
            for (int x = 0; x < g.wo; ++x) out[x] = src[x];
        }
      }
    return;
  }
  for (int c = 0; c < g.ci; ++c)
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        T* row = col + ((std::size_t(c) * g.k + ky) * g.k + kx) * g.positions();
        for (int y = 0; y < g.ho; ++y) {
          const int iy = y + ky - g.pad;
          T* out = row + std::size_t(y) * g.wo;
          if (iy < 0 || iy >= g.h) {
            std::fill(out, out + g.wo, T(0));
            continue;
          }
          const T* src = in + (std::size_t(c) * g.h + iy) * g.w;
          // x + kx - pad inside [0, w) for x in [x0, x1)
          const int x0 = std::max(0, g.pad - kx), x1 = std::min(g.wo, g.w + g.pad - kx);
          std::fill(out, out + std::max(0, std::min(x0, g.wo)), T(0));
          for (int x = x0; x < x1; ++x) out[x] = src[x + kx - g.pad];
          if (x1 < g.wo) std::fill(out + std::max(x1, 0), out + g.wo, T(0));
        }
      }
}

template <typename T>
void col2im_add(const ConvGeometry& g, const T* col, T* in) {
  if (g.pad == 0) {
    // As im2col's fast path (1.8x faster than the general loop below on conv-mnist's second
    // layer). Every input element receives its terms in the same order as there (c, ky, kx, y),
    // so the sums keep their bits. Summing each element's terms in a register instead measured
    // slower: the inner trip counts vary along the row.
    const T* src = col;
    for (int c = 0; c < g.ci; ++c)
      for (int ky = 0; ky < g.k; ++ky) {
        T* plane = in + (std::size_t(c) * g.h + ky) * g.w;
        for (int kx = 0; kx < g.k; ++kx) {
          T* dst = plane + kx;
          for (int y = 0; y < g.ho; ++y, src += g.wo, dst += g.w)
            for (int x = 0; x < g.wo; ++x) dst[x] += src[x];
        }
      }
    return;
  }
  for (int c = 0; c < g.ci; ++c)
    for (int ky = 0; ky < g.k; ++ky)
      for (int kx = 0; kx < g.k; ++kx) {
        const T* row = col + ((std::size_t(c) * g.k + ky) * g.k + kx) * g.positions();
        for (int y = 0; y < g.ho; ++y) {
          const int iy = y + ky - g.pad;
          if (iy < 0 || iy >= g.h) continue;
          T* dst = in + (std::size_t(c) * g.h + iy) * g.w;
          const T* src = row + std::size_t(y) * g.wo;
          const int x0 = std::max(0, g.pad - kx), x1 = std::min(g.wo, g.w + g.pad - kx);
          for (int x = x0; x < x1; ++x) dst[x + kx - g.pad] += src[x];
        }
      }
}

namespace {

// C [m x n] (accumulate ? += : =) A [m x k] B [k x n]: the skinny loops when asked and
// available, else sgemm.
template <typename T>
void product(bool skinny, int m, int n, int k, const T* A, const T* B, T* C, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (skinny && skinny_available(m)) return skinny_gemm(m, n, k, A, k, B, n, C, n, accumulate);
  }
  gemm(Trans::No, Trans::No, m, n, k, T(1), A, k, B, n, accumulate ? T(1) : T(0), C, n);
}

}  // namespace

template <typename T>
void conv_forward(const ConvGeometry& g, const T* W, const T* b, int rows, const T* in, T* z, T* col, bool skinny) {
  const int P = static_cast<int>(g.positions()), K = static_cast<int>(g.patch());
  for (int r = 0; r < rows; ++r) {
    T* out = z + std::size_t(r) * g.conv_size();
    for (int c = 0; c < g.co; ++c) std::fill(out + std::size_t(c) * P, out + std::size_t(c + 1) * P, b ? b[c] : T(0));
    im2col(g, in + std::size_t(r) * g.in_size(), col);
    // out [C_out x P] += W [C_out x patch] col [patch x P]
    product(skinny, g.co, P, K, W, col, out, true);
  }
}

template <typename T>
void conv_transpose_add(const ConvGeometry& g, const T* W, int rows, const T* gz, T* in_grad, T* col, const T* Wt) {
  const int P = static_cast<int>(g.positions()), K = static_cast<int>(g.patch());
  for (int r = 0; r < rows; ++r) {
    // col [patch x P] = W^T [patch x C_out] gz [C_out x P], then the patches added back.
    if (Wt) {
      product(true, K, P, g.co, Wt, gz + std::size_t(r) * g.conv_size(), col, false);
    } else {
      gemm(Trans::Yes, Trans::No, K, P, g.co, T(1), W, K, gz + std::size_t(r) * g.conv_size(), P, T(0), col, P);
    }
    col2im_add(g, col, in_grad + std::size_t(r) * g.in_size());
  }
}

template <typename T>
void conv_weight_grad_add(const ConvGeometry& g, int rows, const T* in, const T* gz, T c, T* dW, T* db, T* cols) {
  const int P = static_cast<int>(g.positions()), K = static_cast<int>(g.patch());
  // dW [C_out x patch] += c gz_r [C_out x P] col_r^T [P x patch], one row after another: the
  // sum's order is fixed by the chunk, whatever the threads.
  for (int r = 0; r < rows; ++r) {
    im2col(g, in + std::size_t(r) * g.in_size(), cols);
    gemm(Trans::No, Trans::Yes, g.co, K, P, c, gz + std::size_t(r) * g.conv_size(), P, cols, P, T(1), dW, K);
    if (db)
      for (int o = 0; o < g.co; ++o) {
        const T* v = gz + std::size_t(r) * g.conv_size() + std::size_t(o) * P;
        T s = 0;
        for (int p = 0; p < P; ++p) s += v[p];
        db[o] += c * s;
      }
  }
}

template <typename T>
void max_pool2(int rows, int c, int h, int w, const T* z, T* out, std::int32_t* arg, bool add) {
  const int ho = h / 2, wo = w / 2;
  const std::size_t zs = std::size_t(c) * h * w, os = std::size_t(c) * ho * wo;
  for (int r = 0; r < rows; ++r) {
    const T* zr = z + r * zs;
    for (int ch = 0; ch < c; ++ch)
      for (int y = 0; y < ho; ++y) {
        const int row = (ch * h + 2 * y) * w;  // the window's top row; the bottom one is row + w
        const T* top = zr + row;
        const T* bottom = top + w;
        const std::size_t o0 = r * os + (std::size_t(ch) * ho + y) * wo;
        for (int x = 0; x < wo; ++x) {
          // Strictly greater: the first maximum in row-major order.
          const int i = 2 * x;
          T m = top[i];
          int best = row + i;
          if (top[i + 1] > m) m = top[i + 1], best = row + i + 1;
          if (bottom[i] > m) m = bottom[i], best = row + w + i;
          if (bottom[i + 1] > m) m = bottom[i + 1], best = row + w + i + 1;
          const std::size_t o = o0 + x;
          if (out) out[o] = add ? out[o] + m : m;
          arg[o] = best;
        }
      }
  }
}

template <typename T>
void unpool(int rows, std::size_t out_size, std::size_t z_size, const T* g, const std::int32_t* arg, T* gz) {
  std::fill(gz, gz + std::size_t(rows) * z_size, T(0));
  for (int r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < out_size; ++i) gz[r * z_size + arg[r * out_size + i]] = g[r * out_size + i];
}

#define EQPROP_CONV(T)                                                                                         \
  template void im2col<T>(const ConvGeometry&, const T*, T*);                                                  \
  template void col2im_add<T>(const ConvGeometry&, const T*, T*);                                              \
  template void conv_forward<T>(const ConvGeometry&, const T*, const T*, int, const T*, T*, T*, bool);         \
  template void conv_transpose_add<T>(const ConvGeometry&, const T*, int, const T*, T*, T*, const T*);         \
  template void conv_weight_grad_add<T>(const ConvGeometry&, int, const T*, const T*, T, T*, T*, T*);          \
  template void max_pool2<T>(int, int, int, int, const T*, T*, std::int32_t*, bool);                                 \
  template void unpool<T>(int, std::size_t, std::size_t, const T*, const std::int32_t*, T*);
EQPROP_CONV(float)
EQPROP_CONV(double)
#undef EQPROP_CONV

}  // namespace eqprop
