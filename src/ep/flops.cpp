#include "eqprop/ep/flops.hpp"

namespace eqprop {
namespace {
// sum_{k=2..L} n_{k-1} n_k: the hidden-to-hidden and hidden-to-output couplings.
double upper_couplings(const std::vector<int>& n) {
  double s = 0;
  for (std::size_t k = 2; k < n.size(); ++k) s += double(n[k - 1]) * n[k];
  return s;
}
}  // namespace

double train_flops_per_sample(const Config& cfg, double input_units) {
  const auto n = cfg.layer_sizes();
  const double input = 2.0 * (input_units > 0 ? input_units : n[0]) * n[1];
  const double up = upper_couplings(n);
  const int steps = cfg.n_free + cfg.n_nudged * (cfg.nudging == Nudging::Symmetric ? 2 : 1);
  return input + steps * 4.0 * up + 2.0 * up + input + 4.0 * up;
}

double eval_flops_per_sample(const Config& cfg, int steps) {
  const auto n = cfg.layer_sizes();
  const double up = upper_couplings(n);
  return 2.0 * n[0] * n[1] + steps * 4.0 * up + 2.0 * up;
}

}  // namespace eqprop
