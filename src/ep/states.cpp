#include "eqprop/ep/states.hpp"

#include <algorithm>

namespace eqprop {

template <typename T>
LayerStates<T>::LayerStates(const std::vector<int>& sizes, int cap) : h(sizes.size()), capacity(cap) {
  for (std::size_t k = 1; k < sizes.size(); ++k) h[k].assign(std::size_t(cap) * sizes[k], T(0));
}

template <typename T>
void LayerStates<T>::zero() {
  for (auto& v : h) std::fill(v.begin(), v.end(), T(0));
}

StateStats& StateStats::operator+=(const StateStats& o) {
  energy += o.energy;
  cost += o.cost;
  errors += o.errors;
  count += o.count;
  free_steps += o.free_steps;
  nudged_steps += o.nudged_steps;
  auto add = [](std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() < b.size()) a.resize(b.size(), 0.0);
    for (std::size_t i = 0; i < b.size(); ++i) a[i] += b[i];
  };
  add(at0, o.at0);
  add(at1, o.at1);
  add(units, o.units);
  add(active, o.active);
  return *this;
}

template struct LayerStates<float>;
template struct LayerStates<double>;

}  // namespace eqprop
