#!/usr/bin/python3
"""An independent PyTorch implementation of the same EP algorithm as eqprop, written as a
user would write it (vectorized over the minibatch): the reference code's dynamics
(synchronous clipped updates, rho' = 1 on [0,1], cost without 1/2), persistent particles
for training and validation examples, a random sign of beta per minibatch, per-layer rates,
batch 20, fixed minibatch order. It is a speed baseline and an accuracy cross-check for
tools/compare, not part of eqprop's build (it needs Debian's python3-torch).

usage: tools/reference/torch_ep.py [--data DIR] [--epochs N] [--threads N] [--hidden 500]
       [--alphas "0.1 0.05"] [--n-free 20] [--n-nudged 4] [--beta 0.5] [--eps 0.5] [--seed S]
Prints one line per epoch: epoch, training error, validation error, seconds, samples/s.
"""
import time

import numpy as np

import torch

from ep_common import load_mnist, parse_args, print_epoch, validation_errors


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

    def relax(h, xw1, steps, beta=0.0, onehot=None):
        for _ in range(steps):
            new = [h[0]]  # the input stays clamped
            for k in range(1, L + 1):
                drive = xw1 if k == 1 else b[k] + h[k - 1] @ W[k]
                if k < L:
                    drive = drive + h[k + 1] @ W[k + 1].T
                v = (1 - eps) * h[k] + eps * drive
                if k == L and beta != 0.0:
                    v = v + 2 * eps * beta * (onehot - h[k])
                new.append(v.clamp_(0.0, 1.0))
            h = new
        return h

    with torch.inference_mode():
        for epoch in range(1, a.epochs + 1):
            t0 = time.perf_counter()
            errors = 0
            for first in range(0, 50000 - B + 1, B):
                idx = slice(first, first + B)
                x, y = x_tr[idx], y_tr[idx]
                onehot = torch.nn.functional.one_hot(y, 10).float()
                xw1 = x @ W[1] + b[1]  # the input stays clamped: once per minibatch
                h0 = relax([x] + [part_tr[k][idx] for k in range(1, L + 1)], xw1, a.n_free)
                for k in range(1, L + 1):
                    part_tr[k][idx] = h0[k]
                errors += int((h0[L].argmax(1) != y).sum())
                beta = a.beta * (1 if rng.random() < 0.5 else -1)
                hb = relax(h0, xw1, a.n_nudged, beta, onehot)
                for k in range(1, L + 1):
                    c = alphas[k - 1] / (beta * B)
                    W[k] += c * (hb[k - 1].T @ hb[k] - h0[k - 1].T @ h0[k])
                    b[k] += c * (hb[k] - h0[k]).sum(0)
            train_seconds = time.perf_counter() - t0
            valid_errors = validation_errors(relax, W, b, x_va, y_va, part_va, L, a.n_free)
            print_epoch(epoch, errors, valid_errors, time.perf_counter() - t0, train_seconds)


if __name__ == "__main__":
    main()
