// The cross-entropy readout (Laborieux et al. 2021): the output layer L is not in the dynamics;
// its class scores are softmax(s_{L-1} W_L + b_L), and the loss -log softmax_y reaches the
// last hidden layer only as the nudge beta W_L (onehot - softmax). The engine keeps, as the
// output layer's state, h_L = beta (onehot - softmax): zero in a free phase, and then the
// dense kind's top-down part h_L W_L^T is exactly that nudge, and the EP update's
// h_{L-1}^T h_L is dPhi/dW_L = -beta dL/dW_L (the same for b_L). docs/design.md derives it.
#pragma once
#include <vector>

#include "eqprop/data_facts.hpp"

namespace eqprop {

// out [rows x n] := beta (onehot(labels) - softmax(logits)) (in place allowed: out == logits).
template <typename T>
void softmax_nudge(int rows, int n, const T* logits, T beta, const Label* labels, T* out);

// -log softmax(logits)_label, in double.
template <typename T>
double softmax_loss(int n, const T* logits, Label label);

}  // namespace eqprop
