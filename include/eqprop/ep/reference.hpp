// The readable EP: the reference code's dynamics and learning rule written straight from the
// equations with plain loops in double precision, one example at a time, no BLAS and nothing
// shared with the fast paths. It documents the algorithm (docs/design.md walks through it) and
// the tests compare the Trainer and every kernel against it, as llm.c keeps its naive matmul
// beside the fast one. Slow on purpose: for small networks only.
#pragma once
#include <vector>

#include "eqprop/config.hpp"
#include "eqprop/ep/network.hpp"

namespace eqprop::reference {

using Net = NetworkT<double>;
using State = std::vector<std::vector<double>>;  // s[0] = x (clamped), s[k] = h_k, k = 1..L

// rho(s) = clip(s, 0, 1).
double rho(double v);
// F = E + beta C for one example: E with rho applied to every state (input terms included),
// C = sum_j (h_L,j - y_j)^2 with one-hot y (no 1/2, as the reference code).
double total_energy(const Net& net, const State& s, double beta, int label);
double cost(const Net& net, const State& s, int label);
// dF/dh_k, analytic, with rho'(s) = 1 on the closed interval [0,1] (Theano's clip gradient).
State gradient(const Net& net, const State& s, double beta, int label);
// One synchronous step of every layer: h_k <- clip(h_k - eps dF/dh_k, 0, 1).
State step(const Net& net, const State& s, double eps, double beta, int label);

// One minibatch of EP, the reference code's way: for each example the free phase of n_free
// steps from its particle (all-zero states without persistent particles; the free end state
// becomes the new particle), the nudged phase of n_nudged steps at beta from the free fixed
// point (and with symmetric nudging one at -beta from it too), then
//   W_k = (1 - alpha_k lambda) W_k + alpha_k / (beta_diff B) sum_i (h^a_{k-1} h^a_k^T - h^b_{k-1} h^b_k^T)
//   b_k += alpha_k / (beta_diff B) sum_i (h^a_k - h^b_k)
// with b the free state (beta_diff = beta) or the -beta state (beta_diff = 2 beta); b_0 is never
// trained. inputs[i] is example i's input (s[0]), particles[i] its particle (s[0] unused).
// alphas: this epoch's rates, input to output.
void train_minibatch(Net& net, const Config& cfg, double beta, const std::vector<double>& alphas,
                     const std::vector<std::vector<double>>& inputs, const std::vector<int>& labels,
                     std::vector<State*>& particles);

}  // namespace eqprop::reference
