// The two products of every relaxation step that involve a narrow layer (the 10 output
// units): h_{L-1} W_L ([rows x n] by [n x m]) and h_L W_L^T ([rows x m] by [m x n]), with
// m <= kNarrowUnits. At rows = 10 and m = 10 these are too small for sgemm, whose per-call
// set-up and packing cost more than the arithmetic, and they are the only products of a net1
// step. The loops here read two copies of W_L that NarrowTop keeps: W_L^T (each output
// unit's weights in one contiguous row) and W_L with its rows padded to kNarrowUnits.
#pragma once
#include <vector>

namespace eqprop {

constexpr int kNarrowUnits = 16;

// The copies of W_L ([n x m], row-major) when m <= kNarrowUnits; empty otherwise (then the
// products go to sgemm). refresh() must run after every change of W_L: the Trainer calls it
// at the start of every minibatch and every evaluation.
template <typename T>
struct NarrowTop {
  std::vector<T> wt;      // [m x n]: W_L^T
  std::vector<T> padded;  // [n x kNarrowUnits]: W_L, columns m.. zero
  void refresh(const T* W, int n, int m);
  bool active() const { return !wt.empty(); }
};

// out[i][j] += h[i] W[:, j] for rows i < rows and units j < m (h: [rows x n], out: [rows x m],
// padded: NarrowTop::padded). Each sum runs over k in order.
void narrow_up(int rows, int n, int m, const float* h, const float* padded, float* out);
void narrow_up(int rows, int n, int m, const double* h, const double* padded, double* out);

// The top-down product fused with the state update of layer L-1, row by row while the row is
// in L1: d[i] = (drive ? drive[i] : d[i]) + sum_j hL[i][j] wt[j], then
// d[i] = clip(keep h[i] + eps d[i], 0, 1). drive is layer 1's clamped drive (L = 2); for a
// deeper layer d already holds b_k + h_{k-1} W_k.
void narrow_down_blend(int rows, int n, int m, const float* hL, const float* wt, const float* drive, const float* h,
                       float keep, float eps, float* d);
void narrow_down_blend(int rows, int n, int m, const double* hL, const double* wt, const double* drive,
                       const double* h, double keep, double eps, double* d);

// The loops' vector paths: x86-64-v4 (AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline. The
// functions above use the CPU's best, chosen once per process (narrow_path()); the two FMA
// paths give the same bits. The _on variants run a given path (tests) and throw
// std::logic_error if the CPU lacks it (or the build: ThreadSanitizer builds keep to the
// baseline, as clones.hpp says).
enum class NarrowPath { Baseline, Avx2, Avx512 };
NarrowPath narrow_path();
bool narrow_path_available(NarrowPath path);
void narrow_up_on(NarrowPath path, int rows, int n, int m, const float* h, const float* padded, float* out);
void narrow_up_on(NarrowPath path, int rows, int n, int m, const double* h, const double* padded, double* out);
void narrow_down_blend_on(NarrowPath path, int rows, int n, int m, const float* hL, const float* wt,
                          const float* drive, const float* h, float keep, float eps, float* d);
void narrow_down_blend_on(NarrowPath path, int rows, int n, int m, const double* hL, const double* wt,
                          const double* drive, const double* h, double keep, double eps, double* d);

}  // namespace eqprop
