#include "eqprop/engine/distribution.hpp"

#include <string>

#include "eqprop/error.hpp"

namespace eqprop {

void check_particle_counts(const TrainState& st, const Dataset& train, const Dataset& valid) {
  auto check = [](const Particles& p, const Dataset& d, const char* key) {
    if (p.capacity != d.count) {
      throw ConfigError(std::string("--resume: the checkpoint has particles for ") + std::to_string(p.capacity) + " " +
                        d.name + " examples, the run uses " + std::to_string(d.count) + " (config key '" + key + "')");
    }
  };
  check(st.train_particles, train, "train-samples");
  check(st.valid_particles, valid, "valid-samples");
}

void Distribution::check_resumed(const TrainState& st, const Dataset& train, const Dataset& valid) const {
  if (st.has_particles) check_particle_counts(st, train, valid);
}

void zero_particles(TrainState& st, int train_rows, int valid_rows) {
  // Without persistent particles no phase reads or writes them: none are kept (for a CIFAR-10
  // convnet they would be 11 GB).
  const bool keep = st.cfg.persistent_particles;
  const auto sizes = st.cfg.layer_sizes();
  st.train_particles = Particles(sizes, keep ? train_rows : 0);
  st.valid_particles = Particles(sizes, keep ? valid_rows : 0);
}

void Distribution::place_particles(TrainState& st, int train_count, int valid_count, bool restore) {
  if (!restore) zero_particles(st, train_count, valid_count);
}

}  // namespace eqprop
