#include "eqprop/update.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "eqprop/blas.hpp"

namespace eqprop {
namespace {
// Rows of W per update task. A constant, never derived from the thread count, so the
// same GEMM calls (and so the same bits) happen whatever --threads is.
constexpr int kRowBlock = 64;
}  // namespace

template <typename T>
void ep_update(NetworkT<T>& net, const T* x, const LayerStates<T>& a, const LayerStates<T>& b, int B,
               const std::vector<T>& alphas, T beta_diff, T* diff) {
  const int L = net.layers();
  const int n0 = net.sizes[0], n1 = net.sizes[1];
  // Layer 1: the input is the same in both phases, so x^T h^a - x^T h^b = x^T (h^a - h^b).
  for (std::size_t ij = 0; ij < std::size_t(B) * n1; ++ij) diff[ij] = a.h[1][ij] - b.h[1][ij];

  for (int k = 1; k <= L; ++k) {
    const int n_pre = net.sizes[k - 1], n_post = net.sizes[k];
    const T c = alphas[k - 1] / (beta_diff * T(B));
    T* W = net.W[k].data();  // [n_pre x n_post]
    const int blocks = (n_pre + kRowBlock - 1) / kRowBlock;
    tbb::parallel_for(
        tbb::blocked_range<int>(0, blocks, 1),
        [&](const tbb::blocked_range<int>& r) {
          for (int blk = r.begin(); blk != r.end(); ++blk) {
            const int r0 = blk * kRowBlock, m = std::min(kRowBlock, n_pre - r0);
            // Rows r0..r0+m of W are columns r0..r0+m of the [B x n_pre] pre-synaptic states.
            if (k == 1) {
              gemm(Trans::Yes, Trans::No, m, n_post, B, c, x + r0, n0, diff, n1, T(1), W + std::size_t(r0) * n_post,
                   n_post);
            } else {
              gemm(Trans::Yes, Trans::No, m, n_post, B, c, a.h[k - 1].data() + r0, n_pre, a.h[k].data(), n_post,
                   T(1), W + std::size_t(r0) * n_post, n_post);
              gemm(Trans::Yes, Trans::No, m, n_post, B, -c, b.h[k - 1].data() + r0, n_pre, b.h[k].data(), n_post,
                   T(1), W + std::size_t(r0) * n_post, n_post);
            }
          }
        },
        tbb::simple_partitioner());
    // Bias: sum over samples in sample order, in double so B terms keep their precision.
    for (int j = 0; j < n_post; ++j) {
      double s = 0;
      for (int i = 0; i < B; ++i) s += double(a.row(k, i)[j]) - double(b.row(k, i)[j]);
      net.b[k][j] += static_cast<T>(c * s);
    }
  }
}

template void ep_update(NetworkT<float>&, const float*, const LayerStates<float>&, const LayerStates<float>&, int,
                        const std::vector<float>&, float, float*);
template void ep_update(NetworkT<double>&, const double*, const LayerStates<double>&, const LayerStates<double>&,
                        int, const std::vector<double>&, double, double*);

}  // namespace eqprop
