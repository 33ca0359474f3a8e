// The readable convolutional EP of Laborieux et al. 2021 ("Scaling Equilibrium Propagation to
// Deep ConvNets...", their code's P_CNN): plain loops in double precision, one example at a
// time, nothing shared with fast paths. As reference.hpp does for the dense nets, it states the
// model in code and the tests hold the fast paths to it; docs/design.md derives it.
//
// Layers s_0 = x (clamped), s_1..s_L with the shapes of layer_shapes(); the primitive function
// of one example is
//   Phi = sum_l < f_l(s_{l-1}), s_l >  - beta L,
//   f_l(s) = P(W_l * s + b_l)  (conv entry: convolution, then the 2x2 max-pool P if it has one)
//   f_l(s) = s W_l + b_l       (dense: W_l is [n_{l-1} x n_l], s flattened C x H x W)
// and the dynamics set every layer at once to s_l = rho(dPhi/ds_l), rho(u) = clip(gain u, 0, 1)
// (gain 1: the hard sigmoid clip(u, 0, 1); gain 1/2: their "my_hard_sig" clip(u/2, 0, 1)).
// Readouts: mse, the output layer s_L in the dynamics and L = 1/2 sum_j (s_L,j - y_j)^2 (their
// MSE loss with the 1/2); cross-entropy, the output not in the dynamics: L = -log softmax(
// s_{L-1} W_L + b_L)_y, which reaches s_{L-1} only as the nudge beta W_L (onehot - softmax).
// A fixed point is a stationary point of E = |s|^2 / (2 gain) - Phi on the box [0, 1]^n, so
// the EP theorem holds: -dJ/dtheta = lim (dPhi/dtheta(s^beta) - dPhi/dtheta(s^-beta)) / (2 beta)
// with J = L at the free fixed point (the centered estimate, Laborieux et al.'s "thirdphase").
#pragma once
#include <cstdint>
#include <vector>

#include "eqprop/architecture.hpp"
#include "eqprop/data_facts.hpp"

namespace eqprop::reference {

enum class Readout { Mse, CrossEntropy };

struct ConvNet {
  std::vector<LayerSpec> specs;  // [1..L]: the entries, then the output (dense, one unit per class); [0] unused
  std::vector<Shape> shapes;     // [0..L]: input, entries, output
  // W[l]: conv [C_l x C_{l-1} x K x K] (PyTorch's layout), dense [n_{l-1} x n_l]; b[l]: [C_l] or [n_l].
  std::vector<std::vector<double>> W, b;
  Readout readout = Readout::Mse;
  double gain = 1.0;

  int L() const { return static_cast<int>(shapes.size()) - 1; }
  // The layers in the dynamics: 1..L (mse) or 1..L-1 (cross-entropy readout).
  int dynamic() const { return readout == Readout::Mse ? L() : L() - 1; }
};

// Weights and biases uniform in +-scale / sqrt(fan_in) (PyTorch's default at scale 1).
ConvNet make_conv_net(const std::vector<LayerSpec>& layers, const DataFacts& facts, Readout readout, double gain,
                      std::uint64_t seed, double scale = 1.0);

using States = std::vector<std::vector<double>>;  // s[0] = x, s[l] for l = 1..dynamic()
States zero_states(const ConvNet& net, const std::vector<double>& x);

// The operations, straight from their definitions.
// out[co][y][x] = b[co] + sum_{ci,ky,kx} W[co][ci][ky][kx] in[ci][y+ky-P][x+kx-P] (zero outside).
std::vector<double> conv2d(const std::vector<double>& in, const Shape& in_shape, const std::vector<double>& W,
                           const std::vector<double>* b, const LayerSpec& s);
// The adjoint of conv2d without bias: <conv2d(in), g> = <in, conv2d_transpose(g)> for all in, g.
std::vector<double> conv2d_transpose(const std::vector<double>& g, const Shape& in_shape, const std::vector<double>& W,
                                     const LayerSpec& s);
// 2x2 max-pool of stride 2 over a C x H x W array (floor: an odd last row or column is dropped);
// argmax[i] = the index into z of output i's maximum, the first in row-major order on ties.
std::vector<double> max_pool2(const std::vector<double>& z, const Shape& z_shape, std::vector<int>* argmax);
// Zeros of size n with g[i] added at argmax[i].
std::vector<double> unpool(const std::vector<double>& g, const std::vector<int>& argmax, std::size_t n);

// f_l(below) (see above); for a pooled conv, argmax receives the pool's choices.
std::vector<double> forward(const ConvNet& net, int l, const std::vector<double>& below, std::vector<int>* argmax = nullptr);
// L of the states (mse: of s_L; cross-entropy: of the readout of s_{L-1}).
double loss(const ConvNet& net, const States& s, int label);
// The readout's class scores: s_L (mse) or softmax(s_{L-1} W_L + b_L).
std::vector<double> scores(const ConvNet& net, const States& s);
double phi(const ConvNet& net, const States& s, double beta, int label);
// dPhi/ds_l for l = 1..dynamic() (index 0 empty).
States drives(const ConvNet& net, const States& s, double beta, int label);
// One synchronous step: every layer to rho(dPhi/ds_l) of the current states.
States step(const ConvNet& net, const States& s, double beta, int label);
// max over units of |s - rho(dPhi/ds)|: 0 exactly at a fixed point.
double residual(const ConvNet& net, const States& s, double beta, int label);

// dPhi/dtheta at the states, in the layout of net.W and net.b.
struct Params {
  std::vector<std::vector<double>> W, b;
};
Params phi_gradient(const ConvNet& net, const States& s, double beta, int label);

}  // namespace eqprop::reference
