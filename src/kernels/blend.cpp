#include "eqprop/kernels/blend.hpp"

#include "eqprop/kernels/clones.hpp"
#include "eqprop/kernels/row_kernels.hpp"

namespace eqprop {

// The public entry points are the clones themselves, one per scalar type.
EQPROP_CLONES void blend_rows(float* out, const float* h, const float* d, const float* extra, float keep, float eps,
                              std::size_t count) {
  blend_clip(out, h, d, extra, keep, eps, count);
}
EQPROP_CLONES void blend_rows(double* out, const double* h, const double* d, const double* extra, double keep,
                              double eps, std::size_t count) {
  blend_clip(out, h, d, extra, keep, eps, count);
}

}  // namespace eqprop
