// ShardedDistribution: the Trainer's hooks (engine/distribution.hpp) for the ranks of mpirun.
//
// Each rank relaxes its run of every minibatch's chunks, then the ranks exchange the states of
// their samples (batch x layer widths, small) and every rank forms the same full update from
// the same rows in the same order: the parameters stay bit-identical on every rank and to one
// process. Each rank keeps only the particles of the samples it relaxes (shard.hpp);
// with_full_state() assembles the whole state on rank 0 for a checkpoint.
#pragma once
#include <vector>

#include "eqprop/engine/distribution.hpp"
#include "eqprop/dist/cluster.hpp"
#include "eqprop/dist/shard.hpp"

namespace eqprop {

class ShardedDistribution : public Distribution {
 public:
  // The cluster is borrowed and must outlive this object.
  explicit ShardedDistribution(const Cluster& cluster) : cluster_(cluster) {}

  int ranks() const override { return cluster_.size(); }
  // Only rank 0 read the checkpoint and holds particles: it alone can check them, and every
  // rank hears the outcome before any waits for the particles.
  void check_resumed(const TrainState& st, const Dataset& train, const Dataset& valid) const override;
  // Rank 0's full particles (if any rank restores) go to their ranks; the full copy is released.
  void place_particles(TrainState& st, int train_count, int valid_count, bool restore) override;
  void reorder(TrainState& st) override;
  Share train_chunks(int chunks) const override { return share_of(chunks, cluster_.size(), cluster_.rank()); }
  Share eval_chunks(int chunks) const override { return share_of(chunks, cluster_.size(), cluster_.rank()); }
  int particle_row(int e) const override { return train_map_.local[e]; }
  void exchange(Minibatch& mb, const Config& cfg, int chunk) override;
  void gather_stats(std::vector<StateStats>& parts) override;
  void with_full_state(const TrainState& st, const std::function<void(const TrainState&)>& f) const override;
  long exchange_bytes() const override { return exchange_bytes_; }

 private:
  // The exchange's layout: for each rank, its rows of every state buffer the update reads
  // (all layers), then its chunks' figures, back to back.
  void plan_exchange(const Config& cfg, int chunk, int chunks);

  const Cluster& cluster_;
  ShardMap train_map_, valid_map_;               // who keeps which particle
  std::vector<char> send_, recv_;                // the exchange's packed rows
  std::vector<int> counts_, offsets_;            // bytes per rank
  long exchange_bytes_ = 0;
};

}  // namespace eqprop
