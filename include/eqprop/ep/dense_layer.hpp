// The dense layer kind: W_k is a full [n_{k-1} x n_k] matrix. Its products go to sgemm, except
// those of a narrow output layer (at most kNarrowUnits units), which narrow_layer.hpp's loops
// do from the copies in a NarrowTop: at 10 x 10 sgemm's set-up costs more than the arithmetic.
#pragma once
#include "eqprop/kernels/narrow_layer.hpp"
#include "eqprop/ep/layer_kind.hpp"

namespace eqprop {

template <typename T>
class DenseLayer : public LayerKind<T> {
 public:
  // narrow: use the narrow loops when the layer is narrow enough (the output layer).
  DenseLayer(int k, bool narrow) : k_(k), narrow_(narrow) {}
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
  int k_;
  bool narrow_;
  NarrowTop<T> top_;  // the copies of W_k the narrow loops read (empty unless narrow)
};

}  // namespace eqprop
