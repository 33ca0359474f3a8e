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

std::size_t stats_doubles(int layers, int classes) { return 6 + 3 * std::size_t(layers + 1) + std::size_t(classes); }

void pack_stats(const StateStats& s, int layers, int classes, double* out) {
  const std::size_t n1 = std::size_t(layers + 1);
  std::fill(out, out + stats_doubles(layers, classes), 0.0);
  out[0] = s.energy, out[1] = s.cost, out[2] = double(s.errors), out[3] = double(s.count);
  out[4] = s.free_steps, out[5] = s.nudged_steps;
  double* p = out + 6;
  for (const auto* v : {&s.at0, &s.at1, &s.units}) {
    std::copy(v->begin(), v->begin() + std::ptrdiff_t(std::min(v->size(), n1)), p);
    p += n1;
  }
  std::copy(s.active.begin(), s.active.begin() + std::ptrdiff_t(std::min(s.active.size(), std::size_t(classes))), p);
}

void unpack_stats(const double* in, int layers, int classes, StateStats& s) {
  const std::size_t n1 = std::size_t(layers + 1);
  s.energy = in[0], s.cost = in[1], s.errors = static_cast<long>(in[2]), s.count = static_cast<long>(in[3]);
  s.free_steps = in[4], s.nudged_steps = in[5];
  const double* p = in + 6;
  for (auto* v : {&s.at0, &s.at1, &s.units}) {
    v->assign(p, p + n1);
    p += n1;
  }
  s.active.assign(p, p + classes);
}

template struct LayerStates<float>;
template struct LayerStates<double>;

}  // namespace eqprop
