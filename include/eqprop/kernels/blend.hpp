// The state update's blend for whole rows: out[j] = clip(keep h[j] + eps (d[j] + extra[j]), 0, 1)
// (extra may be null: 0). out may be d. Compiled per x86-64 level (clones.hpp).
#pragma once
#include <cstddef>

namespace eqprop {

void blend_rows(float* out, const float* h, const float* d, const float* extra, float keep, float eps,
                std::size_t count);
void blend_rows(double* out, const double* h, const double* d, const double* extra, double keep, double eps,
                std::size_t count);

}  // namespace eqprop
