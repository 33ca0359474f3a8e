// The states of the non-input layers for a block of samples, and the per-sample figures
// (energy, cost, errors) measured at a state. Plain data: who fills them is the dynamics.
#pragma once
#include <cstddef>
#include <vector>

namespace eqprop {

// The states h_1..h_L of up to `capacity` samples. h[0] is unused: the input stays clamped.
template <typename T>
struct LayerStates {
  std::vector<std::vector<T>> h;  // h[k]: [capacity x n_k], row-major, values in [0,1]
  int capacity = 0;

  LayerStates() = default;
  LayerStates(const std::vector<int>& sizes, int cap);
  T* row(int k, int i) { return h[k].data() + std::size_t(i) * size(k); }
  const T* row(int k, int i) const { return h[k].data() + std::size_t(i) * size(k); }
  int size(int k) const { return static_cast<int>(h[k].size() / std::size_t(capacity)); }
  void zero();
};

// Per-sample figures at a state, summed over the rows (doubles, so the sums of many
// samples keep their precision).
struct StateStats {
  double energy = 0;   // sum of E, input terms included, as the reference code prints it
  double cost = 0;     // sum of C = |h_L - onehot(y)|^2
  long errors = 0;     // argmax(h_L) != y
  long count = 0;
  // Steps (sync) or sweeps (alternating) of the phases, summed over the examples: per example
  // the free phase's, and the nudged phases' together (two with symmetric nudging).
  double free_steps = 0, nudged_steps = 0;
  // Diagnostics at the state (integer counts, so their sums are exact in any order): per layer
  // k = 1..L (index 0 unused) the units at exactly 0 and at exactly 1 over the rows; per class
  // the rows in which it is active: its output unit above 0, or with the cross-entropy readout
  // its prediction. A class active in no row of an epoch is a dead output unit.
  std::vector<double> at0, at1;
  std::vector<double> units;  // per layer: the units counted (rows x n_k; 0: not in the dynamics)
  std::vector<double> active;
  StateStats& operator+=(const StateStats& o);
};

// StateStats as a fixed number of doubles, to send between processes (the vectors make the
// struct unfit for a byte copy): layers = L, classes = n_L. Counts are integers below 2^53, so
// they travel exactly.
std::size_t stats_doubles(int layers, int classes);
void pack_stats(const StateStats& s, int layers, int classes, double* out);
void unpack_stats(const double* in, int layers, int classes, StateStats& s);

}  // namespace eqprop
