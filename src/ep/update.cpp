#include "eqprop/ep/update.hpp"


#include <algorithm>

#include "eqprop/ep/input_layer.hpp"

namespace eqprop {
namespace {

// Blocks per weight matrix: 12 divides evenly among 1, 2, 3, 4, 6 and 12 threads, so
// the last task of the update is rarely left alone. A constant, never derived from the thread
// count: the same GEMM calls (and so the same bits) happen whatever --threads is.
constexpr int kBlocksPerLayer = 12;
constexpr int kMinRows = 8;  // below this a GEMM call costs more than it computes
// A block under 16 K weights costs less than the fork of a task: a narrow layer's W (500 x 10
// in net1) is one block, so its update is two GEMM calls instead of 24.
constexpr int kMinBlockWeights = 16384;

}  // namespace

std::vector<UpdateBlock> update_blocks(const std::vector<int>& sizes, const std::vector<LayerSpec>& specs,
                                       const std::vector<Shape>& shapes) {
  std::vector<UpdateBlock> blocks;
  for (std::size_t k = 1; k < sizes.size(); ++k) {
    const bool conv = !specs.empty() && specs[k].type == LayerType::Conv;
    // Rows of W_k: input units (dense) or output channels (conv), and the weights of a row.
    const int n_pre = conv ? specs[k].size : sizes[k - 1];
    const long per_row = conv ? long(shapes[k - 1].c) * specs[k].kernel * specs[k].kernel : sizes[k];
    const int by_size = static_cast<int>(std::min<long>(kBlocksPerLayer, long(n_pre) * per_row / kMinBlockWeights));
    const int count = std::max(1, std::min(by_size, conv ? n_pre : n_pre / kMinRows));
    const int rows = (n_pre + count - 1) / count;
    for (int r0 = 0; r0 < n_pre; r0 += rows) blocks.push_back({int(k), r0, std::min(rows, n_pre - r0)});
    blocks.push_back({int(k), 0, 0});
  }
  return blocks;
}

template <typename T>
void ep_update_block(NetworkT<T>& net, const Layers<T>& layers, const UpdateBlock& blk, const SparseInput<T>& x, const LayerStates<T>& a,
                     const LayerStates<T>& b, int B, const std::vector<T>& alphas, T beta_diff, const T* diff1,
                     T weight_decay) {
  const int k = blk.k, n_post = net.sizes[k];
  const T c = alphas[k - 1] / (beta_diff * T(B));
  const T keep = T(1) - alphas[k - 1] * weight_decay;  // the L2 shrink of this layer's weights
  if (blk.m == 0 && net.conv(k)) {
    // A channel's bias: the sum over samples (in order) of the channel's units, in double.
    const int channels = net.specs[k].size, plane = n_post / channels;
    for (int ch = 0; ch < channels; ++ch) {
      double s = 0;
      for (int s_i = 0; s_i < B; ++s_i) {
        const T* pa = a.row(k, s_i) + std::size_t(ch) * plane;
        const T* pb = b.row(k, s_i) + std::size_t(ch) * plane;
        for (int j = 0; j < plane; ++j) s += double(pa[j]) - double(pb[j]);
      }
      net.b[k][ch] += static_cast<T>(c * s);
    }
    return;
  }
  if (blk.m == 0) {
    // Bias: sum over samples in sample order, in double so B terms keep their precision.
    for (int j = 0; j < n_post; ++j) {
      double s = 0;
      for (int s_i = 0; s_i < B; ++s_i) s += double(a.row(k, s_i)[j]) - double(b.row(k, s_i)[j]);
      net.b[k][j] += static_cast<T>(c * s);
    }
    return;
  }
  if (k == 1 && net.conv(1)) {
    // The input is the same in both phases; the kind needs it dense.
    std::vector<T> xd(std::size_t(B) * net.sizes[0]);
    x.dense_rows(0, B, xd.data());
    layers[1].update_rows(net, blk.r0, blk.m, B, c, keep, xd.data(), a.h[1].data(), xd.data(), b.h[1].data());
  } else if (k == 1) {
    // Every row shrinks, including the rows the sparse update does not touch.
    T* W = net.W[1].data() + std::size_t(blk.r0) * n_post;  // [m x n_1] of [n_0 x n_1]
    if (weight_decay != T(0))
      for (std::size_t j = 0; j < std::size_t(blk.m) * n_post; ++j) W[j] *= keep;
    // The input is the same in both phases: x^T h^a - x^T h^b = x^T (h^a - h^b).
    input_update(net, x, diff1, c, blk.r0, blk.r0 + blk.m);
  } else {
    layers[k].update_rows(net, blk.r0, blk.m, B, c, keep, a.h[k - 1].data(), a.h[k].data(), b.h[k - 1].data(),
                          b.h[k].data());
  }
}

template <typename T>
void ep_update(NetworkT<T>& net, const std::vector<UpdateBlock>& blocks, const SparseInput<T>& x,
               const LayerStates<T>& a, const LayerStates<T>& b, int B, const std::vector<T>& alphas, T beta_diff,
               const T* diff1, T weight_decay) {
  const Layers<T> layers(net, /*fast=*/false);
  for (const UpdateBlock& blk : blocks)
    ep_update_block(net, layers, blk, x, a, b, B, alphas, beta_diff, diff1, weight_decay);
}

template void ep_update_block(NetworkT<float>&, const Layers<float>&, const UpdateBlock&, const SparseInput<float>&,
                              const LayerStates<float>&, const LayerStates<float>&, int, const std::vector<float>&,
                              float, const float*, float);
template void ep_update_block(NetworkT<double>&, const Layers<double>&, const UpdateBlock&, const SparseInput<double>&,
                              const LayerStates<double>&, const LayerStates<double>&, int, const std::vector<double>&,
                              double, const double*, double);
template void ep_update(NetworkT<float>&, const std::vector<UpdateBlock>&, const SparseInput<float>&,
                        const LayerStates<float>&, const LayerStates<float>&, int, const std::vector<float>&, float,
                        const float*, float);
template void ep_update(NetworkT<double>&, const std::vector<UpdateBlock>&, const SparseInput<double>&,
                        const LayerStates<double>&, const LayerStates<double>&, int, const std::vector<double>&,
                        double, const double*, double);

}  // namespace eqprop
