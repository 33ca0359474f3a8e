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

// [0, n) cut into `count` runs of consecutive rows holding equal shares of the weights (each
// run at least one row); the run ends, or empty if the weights are all zero.
std::vector<int> weighted_cuts(const std::vector<double>& weights, int n, int count) {
  double total = 0;
  for (int u = 0; u < n; ++u) total += weights[u];
  if (!(total > 0)) return {};
  std::vector<int> ends;
  double sum = 0;  // weights[0] + ... + weights[u - 1]
  int u = 0;
  for (int b = 1; b < count; ++b) {
    const double target = total * b / count;
    const int lo = (ends.empty() ? 0 : ends.back()) + 1, hi = n - (count - b);  // a row for every run
    while (u < lo) sum += weights[u++];
    while (u < hi && sum < target) sum += weights[u++];
    ends.push_back(u);
  }
  ends.push_back(n);
  return ends;
}

}  // namespace

std::vector<UpdateBlock> update_blocks(const std::vector<int>& sizes, const std::vector<LayerSpec>& specs,
                                       const std::vector<Shape>& shapes, const std::vector<double>& input_weights) {
  std::vector<UpdateBlock> blocks;
  for (std::size_t k = 1; k < sizes.size(); ++k) {
    const bool conv = !specs.empty() && specs[k].type == LayerType::Conv;
    // Rows of W_k: input units (dense) or output channels (conv), and the weights of a row.
    const int n_pre = conv ? specs[k].size : sizes[k - 1];
    const long per_row = conv ? long(shapes[k - 1].c) * specs[k].kernel * specs[k].kernel : sizes[k];
    const int by_size = static_cast<int>(std::min<long>(kBlocksPerLayer, long(n_pre) * per_row / kMinBlockWeights));
    const int count = std::max(1, std::min(by_size, conv ? n_pre : n_pre / kMinRows));
    std::vector<int> ends;  // of the row blocks: weighted, else runs of equal length
    if (k == 1 && !conv && input_weights.size() == std::size_t(n_pre)) ends = weighted_cuts(input_weights, n_pre, count);
    if (ends.empty()) {
      const int rows = (n_pre + count - 1) / count;
      for (int r1 = rows; r1 < n_pre + rows; r1 += rows) ends.push_back(std::min(r1, n_pre));
    }
    int r0 = 0;
    for (const int end : ends) {
      blocks.push_back({int(k), r0, end - r0});
      r0 = end;
    }
    blocks.push_back({int(k), 0, 0});
  }
  return blocks;
}

template <typename T>
void ep_update_block(NetworkT<T>& net, const Layers<T>& layers, const UpdateBlock& blk, const SparseInput<T>& x, const LayerStates<T>& a,
                     const LayerStates<T>& b, int B, const std::vector<T>& alphas, T beta_diff, const T* diff1,
                     UpdateScratch<T>& s, T weight_decay, NetworkT<T>* velocity, T momentum) {
  const int k = blk.k, n_post = net.sizes[k];
  const T alpha = alphas[k - 1];
  // Plain SGD adds alpha dW to W itself; with momentum, dW goes to the velocity V (V = mu V + dW)
  // and W follows it below. c scales the phases' difference into D (W or V).
  const bool sgd = velocity == nullptr;
  const T c = (sgd ? alpha : T(1)) / (beta_diff * T(B));
  if (blk.m == 0) {
    // A bias: per unit (dense) or per channel, the sum over samples in sample order of the unit's
    // (the channel's units') difference, in double so B terms keep their precision.
    const bool conv = net.conv(k);
    const int count = conv ? net.specs[k].size : n_post, plane = n_post / count;
    T* vb = sgd ? nullptr : velocity->b[k].data();
    for (int j = 0; j < count; ++j) {
      double s = 0;
      for (int s_i = 0; s_i < B; ++s_i) {
        const T* pa = a.row(k, s_i) + std::size_t(j) * plane;
        const T* pb = b.row(k, s_i) + std::size_t(j) * plane;
        for (int u = 0; u < plane; ++u) s += double(pa[u]) - double(pb[u]);
      }
      if (sgd) {
        net.b[k][j] += static_cast<T>(c * s);
      } else {
        vb[j] = momentum * vb[j] + static_cast<T>(c * s);
        net.b[k][j] += alpha * vb[j];
      }
    }
    return;
  }
  const std::size_t row = net.W[k].size() / std::size_t(net.weight_dims(k)[0]);  // weights per row
  T* W = net.W[k].data() + std::size_t(blk.r0) * row;
  T* D = sgd ? W : velocity->W[k].data() + std::size_t(blk.r0) * row;
  const std::size_t n = std::size_t(blk.m) * row;
  // Plain SGD: W = (1 - alpha lambda) W + c (...); momentum: V = mu V + c (...), then the decay.
  const T keep = sgd ? T(1) - alpha * weight_decay : momentum;
  if (k == 1 && net.conv(1)) {
    // The input is the same in both phases; the kind needs it dense.
    std::vector<T>& xd = s.dense_input;
    xd.resize(std::size_t(B) * net.sizes[0]);
    x.dense_rows(0, B, xd.data());
    layers[1].update_rows(net, blk.r0, blk.m, B, c, keep, xd.data(), a.h[1].data(), xd.data(), b.h[1].data(), D, s);
  } else if (k == 1) {
    // Every row shrinks, including the rows the sparse update does not touch.
    if (keep != T(1))
      for (std::size_t j = 0; j < n; ++j) D[j] *= keep;
    // The input is the same in both phases: x^T h^a - x^T h^b = x^T (h^a - h^b).
    input_update(net, x, diff1, c, blk.r0, blk.r0 + blk.m, sgd ? net.W[1].data() : velocity->W[1].data(), s.units);
  } else {
    layers[k].update_rows(net, blk.r0, blk.m, B, c, keep, a.h[k - 1].data(), a.h[k].data(), b.h[k - 1].data(),
                          b.h[k].data(), D, s);
  }
  if (!sgd) {
    // SGD with momentum and L2 decay, as PyTorch's (with V = -its buffer): V -= lambda W, W += alpha V.
    for (std::size_t j = 0; j < n; ++j) {
      if (weight_decay != T(0)) D[j] -= weight_decay * W[j];
      W[j] += alpha * D[j];
    }
  }
}

template <typename T>
void ep_update(NetworkT<T>& net, const std::vector<UpdateBlock>& blocks, const SparseInput<T>& x,
               const LayerStates<T>& a, const LayerStates<T>& b, int B, const std::vector<T>& alphas, T beta_diff,
               const T* diff1, T weight_decay, NetworkT<T>* velocity, T momentum) {
  const Layers<T> layers(net, /*fast=*/false);
  UpdateScratch<T> s;
  for (const UpdateBlock& blk : blocks)
    ep_update_block(net, layers, blk, x, a, b, B, alphas, beta_diff, diff1, s, weight_decay, velocity, momentum);
}

template void ep_update_block(NetworkT<float>&, const Layers<float>&, const UpdateBlock&, const SparseInput<float>&,
                              const LayerStates<float>&, const LayerStates<float>&, int, const std::vector<float>&,
                              float, const float*, UpdateScratch<float>&, float, NetworkT<float>*, float);
template void ep_update_block(NetworkT<double>&, const Layers<double>&, const UpdateBlock&, const SparseInput<double>&,
                              const LayerStates<double>&, const LayerStates<double>&, int, const std::vector<double>&,
                              double, const double*, UpdateScratch<double>&, double, NetworkT<double>*, double);
template void ep_update(NetworkT<float>&, const std::vector<UpdateBlock>&, const SparseInput<float>&,
                        const LayerStates<float>&, const LayerStates<float>&, int, const std::vector<float>&, float,
                        const float*, float, NetworkT<float>*, float);
template void ep_update(NetworkT<double>&, const std::vector<UpdateBlock>&, const SparseInput<double>&,
                        const LayerStates<double>&, const LayerStates<double>&, int, const std::vector<double>&,
                        double, const double*, double, NetworkT<double>*, double);

}  // namespace eqprop
