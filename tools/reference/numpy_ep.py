#!/usr/bin/python3
"""The NumPy twin of torch_ep.py: the same EP algorithm and settings (persistent particles,
random sign of beta, batch 20, fixed order), vectorized over the minibatch with NumPy, as a
user would write it. A speed baseline and accuracy cross-check for tools/compare.

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

    def relax(h, xw1, steps, beta=0.0, onehot=None):
        for _ in range(steps):
            new = [h[0]]  # the input stays clamped
            for k in range(1, L + 1):
                drive = xw1 if k == 1 else b[k] + h[k - 1] @ W[k]
                if k < L:
                    drive = drive + h[k + 1] @ W[k + 1].T
                v = (1 - eps) * h[k] + eps * drive
                if k == L and beta != 0.0:
                    v += real(2 * eps * beta) * (onehot - h[k])
                new.append(np.clip(v, 0, 1, out=v))
            h = new
        return h

    for epoch in range(1, a.epochs + 1):
        t0 = time.perf_counter()
        errors = 0
        for first in range(0, a.train_samples - B + 1, B):
            idx = slice(first, first + B)
            x, y = x_tr[idx], y_tr[idx]
            xw1 = x @ W[1] + b[1]  # once per minibatch
            h0 = relax([x] + [part_tr[k][idx] for k in range(1, L + 1)], xw1, a.n_free)
            for k in range(1, L + 1):
                part_tr[k][idx] = h0[k]
            errors += int((h0[L].argmax(1) != y).sum())
            beta = a.beta if a.beta_sign == "positive" else a.beta * (1 if rng.random() < 0.5 else -1)
            hb = relax(h0, xw1, a.n_nudged, beta, eye[y])
            for k in range(1, L + 1):
                c = real(alphas[k - 1] / (beta * B))
                W[k] += c * (hb[k - 1].T @ hb[k] - h0[k - 1].T @ h0[k])
                b[k] += c * (hb[k] - h0[k]).sum(0)
        train_seconds = time.perf_counter() - t0
        predicted = []
        valid_errors = validation_errors(relax, W, b, x_va, y_va, part_va, L, a.n_free, predicted)
        trained = (a.train_samples // B) * B
        print_epoch(epoch, errors, valid_errors, time.perf_counter() - t0, train_seconds, trained)
        if a.class_counts:
            counts = np.bincount(np.concatenate(predicted), minlength=10)
            print("validation predictions per class:", " ".join(str(c) for c in counts), flush=True)
    if a.save:
        np.savez(a.save, **{f"W{k}": W[k] for k in range(1, L + 1)}, **{f"b{k}": b[k] for k in range(1, L + 1)})


if __name__ == "__main__":
    main()
