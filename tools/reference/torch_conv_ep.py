#!/usr/bin/python3
"""Convolutional EP in PyTorch, written as a careful PyTorch user would: the model eqprop runs
for `--layers` (Laborieux et al. 2021's P_CNN with the squared-error output in the dynamics;
docs/design.md), batched over the minibatch, F.conv2d / max_pool2d with indices /
max_unpool2d / conv_transpose2d, no autograd anywhere, the input layer's pooled convolution
once per minibatch, states from zero for every minibatch (as Laborieux's code), one-sided
nudging with a random sign of beta or symmetric nudging. A speed baseline and an accuracy
cross-check (tools/compare_conv), not part of eqprop's build (it needs Debian's python3-torch).

usage: tools/reference/torch_conv_ep.py [--data DIR] [--epochs N] [--threads N]
       [--layers "conv:32:5:pool2 conv:64:5:pool2"] [--alphas "0.1 0.05 0.02"] [--n-free 20]
       [--n-nudged 4] [--beta 0.5] [--eps 0.5] [--batch 20] [--nudging one-sided|symmetric]
       [--train-samples N] [--valid-samples N] [--tol T] [--seed S]
Prints one line per epoch: epoch, training error, validation error (from zero states, n-free
steps), seconds, samples/s.
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from ep_common import load_mnist, parse_args, print_epoch


def parse_layers(text):
    """The entries of eqprop's --layers: (kind, size, kernel, padding, pool)."""
    out = []
    for word in text.split():
        f = word.split(":")
        if f[0] == "dense":
            out.append(("dense", int(f[1]), 0, 0, 1))
            continue
        pad, pool = 0, 1
        for opt in f[3:]:
            if opt == "pool2":
                pool = 2
            else:
                pad = int(opt[1:])
        out.append(("conv", int(f[1]), int(f[2]), pad, pool))
    return out


def main():
    def extra(p):
        p.add_argument("--layers", default="conv:32:5:pool2 conv:64:5:pool2")
        p.add_argument("--nudging", default="one-sided", choices=["one-sided", "symmetric"])
        p.add_argument("--train-samples", type=int, default=50000)
        p.add_argument("--valid-samples", type=int, default=10000)
        p.add_argument("--tol", type=float, default=0.0)

    a = parse_args(__doc__.splitlines()[0], threads_option=True, extra=extra)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    x_tr, y_tr, x_va, y_va = (torch.from_numpy(v) for v in load_mnist(a.data))
    x_tr, y_tr = x_tr[: a.train_samples].view(-1, 1, 28, 28), y_tr[: a.train_samples]
    x_va, y_va = x_va[: a.valid_samples].view(-1, 1, 28, 28), y_va[: a.valid_samples]

    # Shapes and parameters (PyTorch's default initialisation, as eqprop's conv nets).
    specs = [None] + parse_layers(a.layers) + [("dense", 10, 0, 0, 1)]
    L = len(specs) - 1
    shapes = [(1, 28, 28)]
    W, b = [None], [None]
    for k in range(1, L + 1):
        kind, size, K, pad, pool = specs[k]
        c, h, w = shapes[-1]
        if kind == "conv":
            ho, wo = h + 2 * pad - K + 1, w + 2 * pad - K + 1
            shapes.append((size, ho // pool, wo // pool))
            fan_in = c * K * K
            W.append((torch.rand(size, c, K, K) * 2 - 1) / np.sqrt(fan_in))
        else:
            shapes.append((size,))
            fan_in = c * h * w if len(shapes[-2]) == 3 else shapes[-2][0]
            W.append((torch.rand(fan_in, size) * 2 - 1) / np.sqrt(fan_in))
        b.append((torch.rand(size) * 2 - 1) / np.sqrt(fan_in))
    alphas = [float(v) for v in a.alphas.split()]
    eps, B = a.eps, a.batch

    def forward(k, below, want_idx=False):
        """f_k(below) without the bias, and the pool's choices."""
        kind, _, _, pad, pool = specs[k]
        if kind == "dense":
            return below.flatten(1) @ W[k], None, None
        z = F.conv2d(below, W[k], padding=pad)
        if pool == 2:
            p, idx = F.max_pool2d(z, 2, return_indices=True)
            return p, idx, z.shape[-2:]
        return z, None, None

    def add_bias(k, v):
        return v + (b[k].view(1, -1, 1, 1) if specs[k][0] == "conv" else b[k])

    def top_down(k, above, idx, zsize, like):
        """The part of layer k-1's drive from layer k (above: h_k)."""
        kind, _, _, pad, pool = specs[k]
        if kind == "dense":
            return (above @ W[k].T).view_as(like)
        g = F.max_unpool2d(above, idx, 2, output_size=zsize) if pool == 2 else above
        return F.conv_transpose2d(g, W[k], padding=pad)

    def relax(h, drive1, steps, beta=0.0, onehot=None):
        for t in range(steps):
            ups, choices = [None, drive1], [None, None]
            for k in range(2, L + 1):
                u, idx, zs = forward(k, h[k - 1])
                ups.append(add_bias(k, u))
                choices.append((idx, zs))
            new = [h[0]]
            for k in range(1, L + 1):
                d = ups[k]
                if k < L:
                    d = d + top_down(k + 1, h[k + 1], *choices[k + 1], like=h[k])
                v = d if eps == 1.0 else (1 - eps) * h[k] + eps * d  # d is a new tensor: clamped in place below
                if k == L and beta != 0.0:
                    v = v + 2 * eps * beta * (onehot - h[k])
                new.append(v.clamp_(0.0, 1.0))
            # --tol: stop after the first step whose largest state change is below it (eqprop's
            # rule, decided per minibatch here); one .item() per step.
            done = a.tol > 0 and max(float((n - o).abs().max()) for n, o in zip(new[1:], h[1:])) < a.tol
            h = new
            if done:
                break
        steps_done[0] += t + 1
        steps_done[1] += 1
        return h

    def zeros(n):
        return [None] + [torch.zeros((n,) + s) for s in shapes[1:]]

    def phi_grads(h):
        """dPhi/dW_k and dPhi/db_k at the states h, summed over the minibatch."""
        gW, gb = [None], [None]
        for k in range(1, L + 1):
            kind, _, _, pad, pool = specs[k]
            if kind == "dense":
                gW.append(h[k - 1].flatten(1).T @ h[k])
                gb.append(h[k].sum(0))
                continue
            _, idx, zs = forward(k, h[k - 1])
            g = F.max_unpool2d(h[k], idx, 2, output_size=zs) if pool == 2 else h[k]
            gW.append(torch.nn.grad.conv2d_weight(h[k - 1], W[k].shape, g, padding=pad))
            gb.append(h[k].sum((0, 2, 3)))
        return gW, gb

    def drive_of(x):
        u, _, _ = forward(1, x)
        return add_bias(1, u)

    steps_done = [0, 0]  # steps over all phases, phases
    with torch.inference_mode():
        n_train = x_tr.shape[0]
        for epoch in range(1, a.epochs + 1):
            t0 = time.perf_counter()
            errors = 0
            for first in range(0, n_train - B + 1, B):
                x, y = x_tr[first : first + B], y_tr[first : first + B]
                onehot = F.one_hot(y, 10).float()
                drive1 = drive_of(x)
                free = relax([x] + zeros(B)[1:], drive1, a.n_free)
                errors += int((free[L].argmax(1) != y).sum())
                beta = a.beta * (1 if a.nudging == "symmetric" else int(rng.choice([-1, 1])))
                plus = relax(free, drive1, a.n_nudged, beta, onehot)
                if a.nudging == "symmetric":
                    other, diff = relax(free, drive1, a.n_nudged, -beta, onehot), 2 * beta
                else:
                    other, diff = free, beta
                ga, gba = phi_grads(plus)
                go, gbo = phi_grads(other)
                for k in range(1, L + 1):
                    c = alphas[k - 1] / (diff * B)
                    W[k].add_(ga[k] - go[k], alpha=c)
                    b[k].add_(gba[k] - gbo[k], alpha=c)
            train_seconds = time.perf_counter() - t0
            valid_errors = 0
            for first in range(0, x_va.shape[0], 500):
                x = x_va[first : first + 500]
                h = relax([x] + zeros(x.shape[0])[1:], drive_of(x), a.n_free)
                valid_errors += int((h[L].argmax(1) != y_va[first : first + 500]).sum())
            # print_epoch reads a count of 10,000 validation images
            print_epoch(epoch, errors, valid_errors * 10000 / x_va.shape[0], time.perf_counter() - t0, train_seconds, n_train)
            if a.tol > 0:
                print(f"# mean steps per phase {steps_done[0] / max(steps_done[1], 1):.1f} (tol {a.tol})")


if __name__ == "__main__":
    main()
