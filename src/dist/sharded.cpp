#include "eqprop/dist/sharded.hpp"

#include <cstring>

#include "eqprop/ep/input_layer.hpp"

namespace eqprop {

void ShardedDistribution::check_resumed(const TrainState& st, const Dataset& train, const Dataset& valid) const {
  const bool holds = cluster_.root() && st.has_particles;
  cluster_.agree([&] {
    if (holds) check_particle_counts(st, train, valid);
  });
}

void ShardedDistribution::place_particles(TrainState& st, int train_count, int valid_count, bool restore) {
  const auto sizes = st.cfg.layer_sizes();
  const int R = cluster_.size(), me = cluster_.rank();
  const int chunk = st.cfg.train_chunk();
  train_map_ = ShardMap::by_slot(st.order, st.cfg.batch, chunk, R);
  valid_map_ = ShardMap::by_chunk(valid_count, st.cfg.eval_chunk, R);
  (void)train_count;  // the order holds one entry per training example
  if (cluster_.max(cluster_.root() && restore ? 1 : 0) == 0) {
    zero_particles(st, train_map_.counts[me], valid_map_.counts[me]);
  } else if (R > 1) {
    Particles t = scatter_particles(cluster_, train_map_, sizes, st.train_particles);
    Particles v = scatter_particles(cluster_, valid_map_, sizes, st.valid_particles);
    st.train_particles = std::move(t);
    st.valid_particles = std::move(v);
  }
  plan_exchange(st.cfg, chunk, st.cfg.train_chunks());
}

void ShardedDistribution::reorder(TrainState& st) {
  // Without persistent particles the shards hold zeros that nobody reads: they stay put.
  if (cluster_.size() == 1 || !st.cfg.persistent_particles) return;
  // Every rank drew the same order: each particle goes to the rank that now relaxes it.
  ShardMap next = ShardMap::by_slot(st.order, st.cfg.batch, st.cfg.train_chunk(), cluster_.size());
  st.train_particles = move_particles(cluster_, train_map_, next, st.cfg.layer_sizes(), st.train_particles);
  train_map_ = std::move(next);
}

void ShardedDistribution::plan_exchange(const Config& cfg, int chunk, int chunks) {
  const auto sizes = cfg.layer_sizes();
  const int R = cluster_.size();
  counts_.assign(R, 0);
  offsets_.assign(R, 0);
  const int buffers = cfg.nudging == Nudging::Symmetric ? 3 : 2;
  int width = 0;
  for (std::size_t k = 1; k < sizes.size(); ++k) width += sizes[k];
  long total = 0;
  for (int r = 0; r < R; ++r) {
    const Share s = share_of(chunks, R, r);
    const long rows = rows_of(s, chunk, cfg.batch).count;
    const long bytes = rows * width * buffers * long(sizeof(float)) + rows * 2 * long(sizeof(double)) +
                       long(s.count) * long(stats_doubles(int(sizes.size()) - 1, sizes.back()) * sizeof(double));
    counts_[r] = static_cast<int>(bytes);
    offsets_[r] = static_cast<int>(total);
    total += bytes;
  }
  exchange_bytes_ = R > 1 ? total : 0;
  send_.assign(R > 1 ? std::size_t(counts_[cluster_.rank()]) : 0, 0);
  recv_.assign(R > 1 ? std::size_t(total) : 0, 0);
}

void ShardedDistribution::exchange(Minibatch& mb, const Config& cfg, int chunk) {
  const int R = cluster_.size(), B = cfg.batch;
  if (R == 1) return;
  const bool symmetric = cfg.nudging == Nudging::Symmetric;
  std::vector<LayerStates<float>*> bufs{&mb.free, &mb.nudged};
  if (symmetric) bufs.push_back(&mb.nudged2);
  const int C = static_cast<int>(mb.chunk_stats.size());
  // Rank r's rows and chunks; packing and unpacking walk the same order.
  auto walk = [&](int r, char* p, bool pack) {
    const Share s = share_of(C, R, r), rows = rows_of(s, chunk, B);
    for (auto* b : bufs) {
      for (std::size_t k = 1; k < b->h.size(); ++k) {
        const int layer = static_cast<int>(k);
        const std::size_t n = std::size_t(rows.count) * b->size(layer) * sizeof(float);
        if (pack) std::memcpy(p, b->row(layer, rows.first), n); else std::memcpy(b->row(layer, rows.first), p, n);
        p += n;
      }
    }
    // The rows' energies and costs, then the chunks' figures as doubles (StateStats holds
    // vectors: no byte copy).
    const std::size_t sums = std::size_t(rows.count) * 2 * sizeof(double);
    double* mine = mb.row_sums.data() + 2 * std::size_t(rows.first);
    if (pack) std::memcpy(p, mine, sums); else std::memcpy(mine, p, sums);
    p += sums;
    const int L = static_cast<int>(mb.free.h.size()) - 1, classes = mb.free.size(L);
    const std::size_t per = stats_doubles(L, classes) * sizeof(double);
    std::vector<double> flat(stats_doubles(L, classes));
    for (int c = s.first; c < s.first + s.count; ++c, p += per) {
      if (pack) {
        pack_stats(mb.chunk_stats[c], L, classes, flat.data());
        std::memcpy(p, flat.data(), per);
      } else {
        std::memcpy(flat.data(), p, per);
        unpack_stats(flat.data(), L, classes, mb.chunk_stats[c]);
      }
    }
  };
  walk(cluster_.rank(), send_.data(), true);
  cluster_.allgather(send_.data(), static_cast<int>(send_.size()), recv_.data(), counts_, offsets_, 1);
  for (int r = 0; r < R; ++r) {
    if (r == cluster_.rank()) continue;
    walk(r, recv_.data() + offsets_[r], false);
    // The other ranks' part of h^a_1 - h^b_1, from the rows just received.
    const Share rows = rows_of(share_of(C, R, r), chunk, B);
    if (rows.count > 0) layer1_difference(mb.nudged, mb.phase_b(cfg.nudging), rows.first, rows.count, mb.diff1.data());
  }
}

void ShardedDistribution::gather_stats(std::vector<StateStats>& parts) {
  const int R = cluster_.size(), C = static_cast<int>(parts.size());
  if (R == 1) return;
  std::vector<int> counts(R), offsets(R);
  for (int r = 0; r < R; ++r) {
    const Share s = share_of(C, R, r);
    counts[r] = s.count;
    offsets[r] = s.first;
  }
  // As doubles: StateStats holds vectors. Every process knows the sizes from its own parts.
  int L = 0, classes = 0;
  for (const StateStats& p : parts) {
    if (p.at0.empty()) continue;
    L = static_cast<int>(p.at0.size()) - 1;
    classes = static_cast<int>(p.active.size());
    break;
  }
  L = static_cast<int>(cluster_.max(L)), classes = static_cast<int>(cluster_.max(classes));
  const std::size_t per = stats_doubles(L, classes);
  const Share mine = share_of(C, R, cluster_.rank());
  std::vector<double> flat(per * std::size_t(C), 0.0);
  for (int c = mine.first; c < mine.first + mine.count; ++c) pack_stats(parts[c], L, classes, flat.data() + per * c);
  cluster_.allgather(flat.data() + per * mine.first, mine.count, flat.data(), counts, offsets, int(per * sizeof(double)));
  for (int c = 0; c < C; ++c) unpack_stats(flat.data() + per * c, L, classes, parts[c]);
}

void ShardedDistribution::with_full_state(const TrainState& st,
                                          const std::function<void(const TrainState&)>& f) const {
  if (cluster_.size() == 1 || !st.cfg.saves_particles()) {
    // Without particles to save, every rank already holds the whole state but the particles.
    if (cluster_.root()) f(st);
    return;
  }
  const auto sizes = st.cfg.layer_sizes();
  Particles t = gather_particles(cluster_, train_map_, sizes, st.train_particles);
  Particles v = gather_particles(cluster_, valid_map_, sizes, st.valid_particles);
  if (!cluster_.root()) return;
  TrainState full = st;
  full.train_particles = std::move(t);
  full.valid_particles = std::move(v);
  f(full);
}

}  // namespace eqprop
