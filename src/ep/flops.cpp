#include "eqprop/ep/flops.hpp"

namespace eqprop {
namespace {
// M = sum_{k=2..L} m_k: the couplings between the relaxing layers.
double upper_couplings(const Config& cfg) {
  double s = 0;
  for (std::size_t k = 2; k < cfg.layer_sizes().size(); ++k) s += coupling_macs(cfg, int(k));
  return s;
}
bool is_conv(const Config& cfg, int k) { return cfg.weight_entries()[k - 1].type == LayerType::Conv; }
// The update's products of W_k: the difference of the two phases' outer products (or weight
// gradients), and for a pooled conv layer the two convolutions that remake the pool's choices.
double update_products(const Config& cfg, int k) {
  const bool pooled = is_conv(cfg, k) && cfg.weight_entries()[k - 1].pool == 2;
  return (pooled ? 4.0 : 2.0) * coupling_macs(cfg, k);
}
}  // namespace

double coupling_macs(const Config& cfg, int k) {
  // Each weight meets one input per output position (before the pool): one for a dense layer.
  const LayerSpec s = cfg.weight_entries()[k - 1];
  const Shape below = layer_shapes(cfg.entries(), cfg.facts)[k - 1];
  const double positions = s.type == LayerType::Conv ? double(conv_out(below.h, s)) * conv_out(below.w, s) : 1.0;
  return double(weight_count(s, below)) * positions;
}

double train_flops_per_sample(const Config& cfg, double input_units) {
  const auto n = cfg.layer_sizes();
  const double input = is_conv(cfg, 1) ? 2.0 * coupling_macs(cfg, 1)
                                       : 2.0 * (input_units > 0 ? input_units : n[0]) * n[1];
  const double update1 = is_conv(cfg, 1) ? 2.0 * update_products(cfg, 1) : input;
  double update = update1;
  for (std::size_t k = 2; k < n.size(); ++k) update += 2.0 * update_products(cfg, int(k));
  const double up = upper_couplings(cfg);
  const int phases = cfg.nudging == Nudging::Symmetric ? 2 : 1;
  const int steps = cfg.n_free + cfg.n_nudged * phases;
  if (cfg.readout == Readout::CrossEntropy) {
    // The readout is one bottom-up product, only in nudged steps (and once more at the end of
    // each nudged phase); the free phases leave it at 0.
    const double top = coupling_macs(cfg, int(n.size()) - 1), inner = up - top;
    return input + steps * 4.0 * inner + (cfg.n_nudged + 1) * phases * 2.0 * top + 2.0 * up + update;
  }
  return input + steps * 4.0 * up + 2.0 * up + update;
}

double eval_flops_per_sample(const Config& cfg, int steps) {
  const auto n = cfg.layer_sizes();
  const double input = is_conv(cfg, 1) ? 2.0 * coupling_macs(cfg, 1) : 2.0 * n[0] * n[1];
  const double up = upper_couplings(cfg);
  if (cfg.readout == Readout::CrossEntropy)  // the readout's product only once, for the prediction
    return input + steps * 4.0 * (up - coupling_macs(cfg, int(n.size()) - 1)) + 2.0 * up;
  return input + steps * 4.0 * up + 2.0 * up;
}

}  // namespace eqprop
