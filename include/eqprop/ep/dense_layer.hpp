// The dense layer kind: W_k is a full [n_{k-1} x n_k] matrix. Its products go to sgemm, except
// those of a narrow output layer (at most kNarrowUnits units), which narrow_layer.hpp's loops
// do from the copies in a NarrowTop (at 10 x 10 sgemm's set-up costs more than the
// arithmetic), and, in float on CPUs with FMA, the relaxation products between wide layers,
// which skinny_gemm.hpp's loops do (the top-down one from a copy of W_k^T; on AVX2 CPUs both
// from copies in panels).
#pragma once
#include <vector>

#include "eqprop/kernels/narrow_layer.hpp"
#include "eqprop/ep/layer_kind.hpp"

namespace eqprop {

template <typename T>
class DenseLayer : public LayerKind<T> {
 public:
  // narrow: use the narrow loops when the layer is narrow enough (the output layer).
  // skinny: use the skinny loops for the relaxation products (float only; the readable
  // reference layers keep sgemm).
  DenseLayer(int k, bool narrow, bool skinny = false) : k_(k), narrow_(narrow), skinny_(skinny) {}
  std::string name() const override { return "dense"; }
  void refresh(const NetworkT<T>& net) override;
  void bias(const NetworkT<T>& net, int rows, T* d) const override;
  void up(const NetworkT<T>& net, int rows, const T* below, T* d, KindScratch<T>& s) const override;
  void down_blend(const NetworkT<T>& net, int rows, const T* above, const T* drive, const T* h, T keep, T eps,
                  T* d, KindScratch<T>& s) const override;
  void update_rows(const NetworkT<T>& net, int r0, int m, int B, T c, T keep, const T* a_below, const T* a,
                   const T* b_below, const T* b, T* dest, UpdateScratch<T>& s) const override;

 private:
  bool narrow_active() const { return narrow_ && top_.active(); }
  bool skinny_for(int rows) const;
  int k_;
  bool narrow_, skinny_;
  NarrowTop<T> top_;  // the copies of W_k the narrow loops read (empty unless narrow)
  std::vector<T> wt_;  // W_k^T [n_k x n_{k-1}] for the skinny top-down product (k >= 2), else empty
  // W_k and W_k^T in 16-column panels (skinny_gemm.hpp's pack_panels) where the skinny loops
  // read B packed (k >= 2, AVX2 CPUs), else empty.
  std::vector<T> packed_w_, packed_wt_;
};

}  // namespace eqprop
