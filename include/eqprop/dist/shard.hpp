// Sharding across the ranks of a Cluster: which rank relaxes which samples, and which rank
// keeps which persistent particle.
//
// A minibatch's chunks (fixed by batch and chunk size, never by the thread or rank count)
// are split into contiguous runs, one per rank, so every sample is relaxed in the same
// chunk, with the same rows, as in one process: the bits cannot depend on the ranks.
// A training particle lives on the rank that relaxes its example: the rank of the slot
// (position modulo batch) the example has in the epoch's order. With shuffling the owner
// changes each epoch and move_particles() sends every particle to its new rank once, at the
// start of the epoch. A validation particle lives on the rank of its evaluation chunk.
// A rank stores its particles in increasing example order, so with one rank the rows are
// the examples themselves.
#pragma once
#include <cstdint>
#include <vector>

#include "eqprop/ep/train_state.hpp"
#include "eqprop/engine/distribution.hpp"
#include "eqprop/dist/cluster.hpp"

namespace eqprop {

// Rank r's run of n items split over `ranks`: [first, first + count), contiguous, sizes
// differing by at most one.
Share share_of(int n, int ranks, int r);

struct ShardMap {
  std::vector<int> owner;   // [examples]: the rank holding the example's particle
  std::vector<int> local;   // [examples]: its row among that rank's particles
  std::vector<int> counts;  // [ranks]: particles per rank

  // Training: the rank that relaxes order[p] is the one holding chunk (p % batch) / chunk.
  static ShardMap by_slot(const std::vector<std::int32_t>& order, int batch, int chunk, int ranks);
  // Evaluation: chunks of `chunk` consecutive examples, split as share_of().
  static ShardMap by_chunk(int examples, int chunk, int ranks);
};

// sizes: the network's layer sizes (sizes[0], the input, holds no particle). Each call moves
// one packed row (all layers) per example in a single collective operation.
// This rank's particles from the full set, which only rank 0 needs to hold (`full` is not
// read elsewhere).
Particles scatter_particles(const Cluster& c, const ShardMap& map, const std::vector<int>& sizes,
                            const Particles& full);
// The full set on rank 0 (an empty Particles on the other ranks).
Particles gather_particles(const Cluster& c, const ShardMap& map, const std::vector<int>& sizes,
                           const Particles& mine);
// This rank's particles under `to`, from every rank's particles under `from`.
Particles move_particles(const Cluster& c, const ShardMap& from, const ShardMap& to, const std::vector<int>& sizes,
                         const Particles& mine);

}  // namespace eqprop
