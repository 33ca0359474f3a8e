#include "eqprop/dist/shard.hpp"

#include <climits>
#include <cstring>
#include <string>

namespace eqprop {
namespace {

// Floats per example: one row of every non-input layer.
int row_width(const std::vector<int>& sizes) {
  int w = 0;
  for (std::size_t k = 1; k < sizes.size(); ++k) w += sizes[k];
  return w;
}

// MPI counts are ints: a transfer that would not fit is refused with the numbers, not
// truncated.
int count_of(long rows, int width) {
  const long n = rows * long(width);
  if (n > INT_MAX) {
    throw std::runtime_error("a particle transfer of " + std::to_string(rows) + " examples x " +
                             std::to_string(width) + " floats exceeds MPI's 2^31-element limit per call");
  }
  return static_cast<int>(n);
}

void pack_row(const Particles& p, const std::vector<int>& sizes, int row, float* out) {
  for (std::size_t k = 1; k < sizes.size(); ++k) {
    std::memcpy(out, p.h[k].data() + std::size_t(row) * sizes[k], sizeof(float) * sizes[k]);
    out += sizes[k];
  }
}

void unpack_row(const float* in, const std::vector<int>& sizes, int row, Particles& p) {
  for (std::size_t k = 1; k < sizes.size(); ++k) {
    std::memcpy(p.h[k].data() + std::size_t(row) * sizes[k], in, sizeof(float) * sizes[k]);
    in += sizes[k];
  }
}

// counts[r] * width floats per rank, back to back.
void layout(const std::vector<int>& rows, int width, std::vector<int>& counts, std::vector<int>& offsets) {
  counts.assign(rows.size(), 0);
  offsets.assign(rows.size(), 0);
  long total = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    counts[r] = count_of(rows[r], width);
    offsets[r] = count_of(total, 1);
    total += counts[r];
  }
  count_of(total, 1);
}

ShardMap from_owners(std::vector<int> owner, int ranks) {
  ShardMap m;
  m.owner = std::move(owner);
  m.local.resize(m.owner.size());
  m.counts.assign(ranks, 0);
  for (std::size_t e = 0; e < m.owner.size(); ++e) m.local[e] = m.counts[m.owner[e]]++;
  return m;
}

// The rank of each of `chunks` chunks under share_of().
std::vector<int> chunk_ranks(int chunks, int ranks) {
  std::vector<int> r(chunks, 0);
  for (int q = 0; q < ranks; ++q) {
    const Share s = share_of(chunks, ranks, q);
    for (int c = s.first; c < s.first + s.count; ++c) r[c] = q;
  }
  return r;
}

}  // namespace

Share share_of(int n, int ranks, int r) {
  const long first = long(n) * r / ranks, last = long(n) * (r + 1) / ranks;
  return Share{static_cast<int>(first), static_cast<int>(last - first)};
}

ShardMap ShardMap::by_slot(const std::vector<std::int32_t>& order, int batch, int chunk, int ranks) {
  const std::vector<int> rank_of_chunk = chunk_ranks((batch + chunk - 1) / chunk, ranks);
  std::vector<int> owner(order.size(), 0);
  for (std::size_t p = 0; p < order.size(); ++p) owner[order[p]] = rank_of_chunk[(p % batch) / chunk];
  return from_owners(std::move(owner), ranks);
}

ShardMap ShardMap::by_chunk(int examples, int chunk, int ranks) {
  const std::vector<int> rank_of_chunk = chunk_ranks((examples + chunk - 1) / chunk, ranks);
  std::vector<int> owner(examples, 0);
  for (int e = 0; e < examples; ++e) owner[e] = rank_of_chunk[e / chunk];
  return from_owners(std::move(owner), ranks);
}

Particles scatter_particles(const Cluster& c, const ShardMap& map, const std::vector<int>& sizes,
                            const Particles& full) {
  const int w = row_width(sizes);
  std::vector<int> counts, offsets;
  layout(map.counts, w, counts, offsets);
  std::vector<float> send;
  if (c.root()) {
    send.resize(std::size_t(offsets.back()) + counts.back());
    for (std::size_t e = 0; e < map.owner.size(); ++e)
      pack_row(full, sizes, static_cast<int>(e), send.data() + offsets[map.owner[e]] + std::size_t(map.local[e]) * w);
  }
  const int mine = map.counts[c.rank()];
  std::vector<float> recv(std::size_t(mine) * w);
  c.scatter_from_root(send.data(), counts, offsets, recv.data(), counts[c.rank()]);
  Particles out(sizes, mine);
  for (int i = 0; i < mine; ++i) unpack_row(recv.data() + std::size_t(i) * w, sizes, i, out);
  return out;
}

Particles gather_particles(const Cluster& c, const ShardMap& map, const std::vector<int>& sizes,
                           const Particles& mine) {
  const int w = row_width(sizes);
  std::vector<int> counts, offsets;
  layout(map.counts, w, counts, offsets);
  const int n = map.counts[c.rank()];
  std::vector<float> send(std::size_t(n) * w);
  for (int i = 0; i < n; ++i) pack_row(mine, sizes, i, send.data() + std::size_t(i) * w);
  std::vector<float> recv(c.root() ? std::size_t(offsets.back()) + counts.back() : 0);
  c.gather_to_root(send.data(), counts[c.rank()], recv.data(), counts, offsets);
  if (!c.root()) return Particles{};
  Particles full(sizes, static_cast<int>(map.owner.size()));
  for (std::size_t e = 0; e < map.owner.size(); ++e)
    unpack_row(recv.data() + offsets[map.owner[e]] + std::size_t(map.local[e]) * w, sizes, static_cast<int>(e), full);
  return full;
}

Particles move_particles(const Cluster& c, const ShardMap& from, const ShardMap& to, const std::vector<int>& sizes,
                         const Particles& mine) {
  const int w = row_width(sizes), R = c.size(), me = c.rank();
  // rows[q]: how many examples go from this rank to rank q (send) or come from q (receive).
  std::vector<int> send_rows(R, 0), recv_rows(R, 0);
  for (std::size_t e = 0; e < from.owner.size(); ++e) {
    if (from.owner[e] == me) ++send_rows[to.owner[e]];
    if (to.owner[e] == me) ++recv_rows[from.owner[e]];
  }
  std::vector<int> sc, so, rc, ro;
  layout(send_rows, w, sc, so);
  layout(recv_rows, w, rc, ro);
  // Both sides walk the examples in increasing order, so the k-th row rank q sends to rank
  // r is the k-th row r expects from q: no index lists need to travel.
  std::vector<float> send(std::size_t(so.back()) + sc.back()), recv(std::size_t(ro.back()) + rc.back());
  std::vector<int> fill(R, 0);
  for (std::size_t e = 0; e < from.owner.size(); ++e) {
    if (from.owner[e] != me) continue;
    const int q = to.owner[e];
    pack_row(mine, sizes, from.local[e], send.data() + so[q] + std::size_t(fill[q]++) * w);
  }
  c.all_to_all(send.data(), sc, so, recv.data(), rc, ro);
  Particles out(sizes, to.counts[me]);
  fill.assign(R, 0);
  for (std::size_t e = 0; e < to.owner.size(); ++e) {
    if (to.owner[e] != me) continue;
    const int s = from.owner[e];
    unpack_row(recv.data() + ro[s] + std::size_t(fill[s]++) * w, sizes, to.local[e], out);
  }
  return out;
}

}  // namespace eqprop
