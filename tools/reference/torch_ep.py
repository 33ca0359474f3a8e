#!/usr/bin/python3
"""An independent PyTorch implementation of the same EP algorithm as eqprop, written as a
careful PyTorch user would write it for speed: the reference code's dynamics (synchronous
clipped updates, rho' = 1 on [0,1], cost without 1/2), persistent particles for training
and validation examples, a random sign of beta per minibatch, per-layer rates, batch 20,
fixed minibatch order; vectorized over the minibatch, every state and drive in tensors
allocated once, each layer's step one fused drive (addmm with the (1 - eps) blend and the
bias folded in, in-place clamp_), x W_1 once per minibatch, the updates as in-place addmm_,
no autograd, no per-step allocation, no .item() inside an epoch. It is a speed baseline and
an accuracy cross-check for tools/compare, not part of eqprop's build (it needs Debian's
python3-torch).

usage: tools/reference/torch_ep.py [--data DIR] [--epochs N] [--threads N] [--hidden 500]
       [--alphas "0.1 0.05"] [--n-free 20] [--n-nudged 4] [--beta 0.5] [--eps 0.5] [--seed S]
Prints one line per epoch: epoch, training error, validation error, seconds, samples/s.
"""
import time

import numpy as np

import torch

from ep_common import load_mnist, parse_args, print_epoch, validation_errors


class Relaxation:
    """The synchronous dynamics for minibatches of `rows` examples: two sets of state tensors
    (the states and the next states), swapped after every step, and x W_1 + b_1 scaled by eps."""

    def __init__(self, W, b, sizes, rows, eps):
        self.W, self.b, self.eps, self.L = W, b, eps, len(sizes) - 1
        self.h = [None] + [torch.zeros(rows, n) for n in sizes[1:]]
        self.nxt = [None] + [torch.zeros(rows, n) for n in sizes[1:]]
        self.xw1 = torch.zeros(rows, sizes[1])  # eps * (x W_1 + b_1)

    def clamp_input(self, x):
        torch.addmm(self.b[1], x, self.W[1], beta=self.eps, alpha=self.eps, out=self.xw1)

    def run(self, steps, beta=0.0, onehot=None):
        W, b, eps, L = self.W, self.b, self.eps, self.L
        for _ in range(steps):
            h, n = self.h, self.nxt
            for k in range(1, L + 1):
                # n_k = (1 - eps) h_k + eps (b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T)
                if k == 1:
                    torch.add(self.xw1, h[1], alpha=1 - eps, out=n[1])
                else:
                    torch.addmm(b[k], h[k - 1], W[k], beta=eps, alpha=eps, out=n[k])
                    n[k].add_(h[k], alpha=1 - eps)
                if k < L:
                    n[k].addmm_(h[k + 1], W[k + 1].T, alpha=eps)
                if k == L and beta != 0.0:  # + 2 eps beta (onehot - h_L)
                    n[k].add_(h[k], alpha=-2 * eps * beta).add_(onehot, alpha=2 * eps * beta)
                n[k].clamp_(0.0, 1.0)
            self.h, self.nxt = n, h


def main():
    a = parse_args(__doc__.splitlines()[0], threads_option=True)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    x_tr, y_tr, x_va, y_va = (torch.from_numpy(v) for v in load_mnist(a.data))

    sizes = [784] + [int(h) for h in a.hidden.split()] + [10]
    alphas = [float(v) for v in a.alphas.split()]
    L = len(sizes) - 1
    W = [None] + [
        (torch.rand(sizes[k - 1], sizes[k]) * 2 - 1) * np.sqrt(6.0 / (sizes[k - 1] + sizes[k])) for k in range(1, L + 1)
    ]
    b = [torch.zeros(n) for n in sizes]
    part_tr = [None] + [torch.zeros(50000, n) for n in sizes[1:]]
    part_va = [None] + [torch.zeros(10000, n) for n in sizes[1:]]
    eps, B = a.eps, a.batch
    onehot_tr = torch.nn.functional.one_hot(y_tr, 10).float()
    free = [None] + [torch.zeros(B, n) for n in sizes[1:]]  # the free phase's states, for the update
    col_sums = [None] + [torch.zeros(n) for n in sizes[1:]]
    relax_b = Relaxation(W, b, sizes, B, eps)
    relax_v = Relaxation(W, b, sizes, 1000, eps)

    def relax_list(h, xw1, steps):
        """The validation pass's interface (ep_common.validation_errors): states as a list."""
        r = relax_v
        r.xw1.copy_(xw1).mul_(eps)
        for k in range(1, L + 1):
            r.h[k].copy_(h[k])
        r.run(steps)
        return [h[0]] + r.h[1:]

    with torch.inference_mode():
        for epoch in range(1, a.epochs + 1):
            t0 = time.perf_counter()
            errors = torch.zeros((), dtype=torch.int64)
            for first in range(0, 50000 - B + 1, B):
                x, y, onehot = x_tr[first : first + B], y_tr[first : first + B], onehot_tr[first : first + B]
                r = relax_b
                r.clamp_input(x)  # the input stays clamped: x W_1 once per minibatch
                for k in range(1, L + 1):
                    r.h[k].copy_(part_tr[k][first : first + B])
                r.run(a.n_free)
                for k in range(1, L + 1):
                    part_tr[k][first : first + B].copy_(r.h[k])
                    free[k].copy_(r.h[k])
                errors += (r.h[L].argmax(1) != y).sum()
                beta = a.beta * (1 if rng.random() < 0.5 else -1)
                r.run(a.n_nudged, beta, onehot)
                for k in range(1, L + 1):
                    c = alphas[k - 1] / (beta * B)
                    below_nudged, below_free = (x, x) if k == 1 else (r.h[k - 1], free[k - 1])
                    W[k].addmm_(below_nudged.T, r.h[k], alpha=c).addmm_(below_free.T, free[k], alpha=-c)
                    torch.sum(r.h[k], 0, out=col_sums[k])
                    b[k].add_(col_sums[k], alpha=c)
                    torch.sum(free[k], 0, out=col_sums[k])
                    b[k].add_(col_sums[k], alpha=-c)
            train_seconds = time.perf_counter() - t0
            valid_errors = validation_errors(relax_list, W, b, x_va, y_va, part_va, L, a.n_free)
            print_epoch(epoch, int(errors), valid_errors, time.perf_counter() - t0, train_seconds)


if __name__ == "__main__":
    main()
