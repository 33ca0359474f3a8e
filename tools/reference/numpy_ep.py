#!/usr/bin/python3
"""The NumPy twin of torch_ep.py: the same EP algorithm and settings (persistent particles,
random sign of beta, batch 20, fixed order), vectorized over the minibatch with NumPy as a
careful user would write it for speed: states, drives and products in arrays allocated once
(np.matmul / np.add / np.clip with out=), x W_1 once per minibatch, no per-step allocation.
A speed baseline and accuracy cross-check for tools/compare.

usage: tools/reference/numpy_ep.py [--data DIR] [--epochs N] [--hidden 500] [--alphas "0.1 0.05"]
       [--n-free 20] [--n-nudged 4] [--beta 0.5] [--eps 0.5] [--seed S]
       [--init W.npz] [--train-samples N] [--class-counts] [--beta-sign random|positive]
       [--save OUT.npz] [--float64]
--init starts from the weights and biases of `eqprop export` (an eqprop run's initial
weights: train with --alphas "0 0 ..." --max-minibatches 1 --checkpoint, then export);
--class-counts prints how often the validation pass predicts each class (a dead output
unit is a class never predicted). With --init and --beta-sign positive the run follows
the same arithmetic as `eqprop train --beta-sign positive` from those weights; --save writes
the final W1.., b1.. for comparing the two; --float64 runs the same in double precision
(how fast rounding differences grow, with no change of algorithm).
The thread count of NumPy's BLAS is set with OPENBLAS_NUM_THREADS (tools/compare does).
Prints one line per epoch: epoch, training error, validation error, seconds, samples/s.
"""
import time

import numpy as np

from ep_common import load_mnist, parse_args, print_epoch, validation_errors


def main():
    def extra(p):
        p.add_argument("--init", help="start from the W1.., b1.. of an eqprop .npz export")
        p.add_argument("--train-samples", type=int, default=50000)
        p.add_argument("--class-counts", action="store_true")
        p.add_argument("--beta-sign", choices=["random", "positive"], default="random")
        p.add_argument("--save", help="write the final weights and biases (W1.., b1..) to this .npz")
        p.add_argument("--float64", action="store_true", help="double precision throughout")

    a = parse_args(__doc__.splitlines()[0], threads_option=False, extra=extra)
    rng = np.random.default_rng(a.seed)
    real = np.float64 if a.float64 else np.float32  # the working precision

    x_tr, y_tr, x_va, y_va = load_mnist(a.data)

    sizes = [784] + [int(h) for h in a.hidden.split()] + [10]
    alphas = [float(v) for v in a.alphas.split()]
    L = len(sizes) - 1
    W = [None] + [
        ((rng.random((sizes[k - 1], sizes[k])) * 2 - 1) * np.sqrt(6.0 / (sizes[k - 1] + sizes[k]))).astype(real)
        for k in range(1, L + 1)
    ]
    b = [np.zeros(n, real) for n in sizes]
    if a.init:
        saved = np.load(a.init)
        for k in range(1, L + 1):
            if saved[f"W{k}"].shape != W[k].shape:
                raise SystemExit(f"--init: W{k} is {saved[f'W{k}'].shape}, the network needs {W[k].shape}")
            W[k] = saved[f"W{k}"].astype(real)
            b[k] = saved[f"b{k}"].astype(real)
    part_tr = [None] + [np.zeros((50000, n), real) for n in sizes[1:]]
    part_va = [None] + [np.zeros((10000, n), real) for n in sizes[1:]]
    eps, B = real(a.eps), a.batch
    eye = np.eye(10, dtype=real)

    class Relaxation:
        """The synchronous dynamics for `rows` examples: the states and the next states (swapped
        after every step), a product buffer per layer, and eps (x W_1 + b_1)."""

        def __init__(self, rows):
            self.h = [None] + [np.zeros((rows, n), real) for n in sizes[1:]]
            self.nxt = [None] + [np.zeros((rows, n), real) for n in sizes[1:]]
            self.prod = [None] + [np.zeros((rows, n), real) for n in sizes[1:]]
            self.xw1 = np.zeros((rows, sizes[1]), real)

        def clamp_input(self, x):
            np.matmul(x, W[1], out=self.xw1)
            self.xw1 += b[1]
            self.xw1 *= eps

        def run(self, steps, beta=0.0, onehot=None):
            for _ in range(steps):
                h, n = self.h, self.nxt
                for k in range(1, L + 1):
                    # n_k = (1 - eps) h_k + eps (b_k + h_{k-1} W_k + h_{k+1} W_{k+1}^T)
                    if k == 1:
                        np.copyto(n[1], self.xw1)
                    else:
                        np.matmul(h[k - 1], W[k], out=n[k])
                        n[k] += b[k]
                    if k < L:
                        np.matmul(h[k + 1], W[k + 1].T, out=self.prod[k])
                        if k == 1:
                            self.prod[k] *= eps
                            n[k] += self.prod[k]
                        else:
                            n[k] += self.prod[k]
                    if k > 1:
                        n[k] *= eps
                    np.multiply(h[k], real(1 - eps), out=self.prod[k])
                    n[k] += self.prod[k]
                    if k == L and beta != 0.0:  # + 2 eps beta (onehot - h_L)
                        np.subtract(onehot, h[k], out=self.prod[k])
                        self.prod[k] *= real(2 * eps * beta)
                        n[k] += self.prod[k]
                    np.clip(n[k], 0, 1, out=n[k])
                self.h, self.nxt = n, h

    relax_b, relax_v = Relaxation(B), Relaxation(1000)
    free = [None] + [np.zeros((B, n), real) for n in sizes[1:]]  # the free phase's states, for the update
    grad = [None] + [np.zeros((sizes[k - 1], sizes[k]), real) for k in range(1, L + 1)]
    grad_free = [None] + [np.zeros((sizes[k - 1], sizes[k]), real) for k in range(1, L + 1)]

    def relax_list(h, xw1, steps):
        """The validation pass's interface (ep_common.validation_errors): states as a list."""
        r = relax_v
        np.multiply(xw1, eps, out=r.xw1)
        for k in range(1, L + 1):
            np.copyto(r.h[k], h[k])
        r.run(steps)
        return [h[0]] + r.h[1:]

    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        errors = 0
        for first in range(0, a.train_samples - B + 1, B):
            idx = slice(first, first + B)
            x, y = x_tr[idx].astype(real, copy=False), y_tr[idx]
            r = relax_b
            r.clamp_input(x)  # once per minibatch
            for k in range(1, L + 1):
                np.copyto(r.h[k], part_tr[k][idx])
            r.run(a.n_free)
            for k in range(1, L + 1):
                np.copyto(part_tr[k][idx], r.h[k])
                np.copyto(free[k], r.h[k])
            errors += int((r.h[L].argmax(1) != y).sum())
            beta = a.beta if a.beta_sign == "positive" else a.beta * (1 if rng.random() < 0.5 else -1)
            r.run(a.n_nudged, beta, eye[y])
            for k in range(1, L + 1):
                c = real(alphas[k - 1] / (beta * B))
                below_nudged, below_free = (x, x) if k == 1 else (r.h[k - 1], free[k - 1])
                np.matmul(below_nudged.T, r.h[k], out=grad[k])
                np.matmul(below_free.T, free[k], out=grad_free[k])
                grad[k] -= grad_free[k]
                grad[k] *= c
                W[k] += grad[k]
                b[k] += c * (r.h[k].sum(0) - free[k].sum(0))
        train_seconds = time.perf_counter() - t0
        predicted = []
        valid_errors = validation_errors(relax_list, W, b, x_va, y_va, part_va, L, a.n_free, predicted)
        trained = (a.train_samples // B) * B
        print_epoch(epoch, errors, valid_errors, time.perf_counter() - t0, train_seconds, trained)
        if a.class_counts:
            counts = np.bincount(np.concatenate(predicted), minlength=10)
            print("validation predictions per class:", " ".join(str(c) for c in counts), flush=True)
    if a.save:
        np.savez(a.save, **{f"W{k}": W[k] for k in range(1, L + 1)}, **{f"b{k}": b[k] for k in range(1, L + 1)})


if __name__ == "__main__":
    main()
