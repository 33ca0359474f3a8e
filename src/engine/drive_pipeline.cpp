#include "eqprop/engine/drive_pipeline.hpp"

#include <algorithm>

namespace eqprop {

void DrivePipeline::configure(const std::vector<UpdateBlock>& blocks, int n1, int threads) {
  std::vector<int> w1;  // indices of W_1's row blocks, in row order
  for (std::size_t i = 0; i < blocks.size(); ++i)
    if (blocks[i].k == 1 && blocks[i].m > 0) w1.push_back(static_cast<int>(i));
  const int G = std::min<int>(threads, static_cast<int>(w1.size()));
  cuts_.clear();
  update_owners_.assign(blocks.size(), -1);
  if (G < 2) return;
  for (int g = 0; g < G; ++g) {
    const std::size_t from = w1.size() * g / G, to = w1.size() * (g + 1) / G;
    for (std::size_t i = from; i < to; ++i) update_owners_[w1[i]] = g;
    cuts_.push_back(blocks[w1[from]].r0);
  }
  const UpdateBlock& last = blocks[w1.back()];
  cuts_.push_back(last.r0 + last.m);
  blocks_ = sparse_drive_blocks(n1);
  std::vector<int> owners(G);
  for (int g = 0; g < G; ++g) owners[g] = g;
  taken_.assign(std::move(owners));
  progress_ = std::make_unique<Group[]>(std::size_t(G));
}

void DrivePipeline::begin(const SparseInput<float>& x, const Network& net, float* drive1,
                          const std::vector<int>& part_ends) {
  x_ = &x;
  net_ = &net;
  drive1_ = drive1;
  part_ends_ = &part_ends;
  taken_.begin();
  for (int g = 0; g < groups(); ++g) progress_[g].done.store(0, std::memory_order_relaxed);
}

void DrivePipeline::run(int thread) {
  taken_.run(thread, [&](int g) { run_group(g); });
}

void DrivePipeline::wait_part(int p) { wait_for(groups() - 1, (blocks_ - 1) * parts() + p); }

void DrivePipeline::run_group(int g) {
  const std::vector<int>& ends = *part_ends_;
  const int P = parts();
  for (int b = 0; b < blocks_; ++b) {
    for (int p = 0; p < P; ++p) {
      const int piece = b * P + p;
      if (g > 0) wait_for(g - 1, piece);
      sparse_drive_part(*x_, ends[p], ends[p + 1] - ends[p], net_->W[1].data(), net_->b[1].data(), net_->sizes[1],
                        drive1_, b, cuts_[g], cuts_[g + 1]);
      progress_[g].done.store(piece + 1, std::memory_order_release);
    }
  }
}

void DrivePipeline::wait_for(int g, int piece) {
  int spins = 0;
  while (progress_[g].done.load(std::memory_order_acquire) <= piece) {
    // Its owner may be a moment late: give it that moment before running its rows here.
    if (spins >= kOwnerPatience && taken_.take(g)) {
      run_group(g);
      return;
    }
    pause_or_yield(spins);
  }
}

}  // namespace eqprop
