#include "eqprop/app/run_data.hpp"

#include <sstream>

#include "eqprop/error.hpp"

namespace eqprop {

Splits load_run_data(Config& cfg, const std::string& resumed_from) {
  Splits data = load_splits(cfg);
  if (resumed_from.empty()) {
    cfg.facts = data.facts;
  } else {
    check_same_data(cfg.facts, data.facts, "'" + resumed_from + "'");
    check_same_normalisation(cfg.facts, cfg.normalize, "'" + resumed_from + "'");
  }
  check_memory(estimate_memory(cfg, double(data.read_examples), data.train.count, data.valid.count, data.train.floats ? 4 : 1));
  return data;
}

std::string data_summary(const Config& cfg, const Splits& data) {
  std::ostringstream os;
  os << data.train.count << " train, " << data.valid.count << " valid, "
     << (data.has_test ? std::to_string(data.test.count) : std::string("no")) << " test examples of "
     << cfg.facts.text() << (data.train.floats ? " (float32)" : " (uint8)") << " from " << cfg.data;
  if (!cfg.facts.mean.empty()) {
    os << "; normalised per channel, mean/std";
    for (std::size_t c = 0; c < cfg.facts.mean.size(); ++c) os << " " << cfg.facts.mean[c] << "/" << cfg.facts.stddev[c];
  }
  return os.str();
}

}  // namespace eqprop
