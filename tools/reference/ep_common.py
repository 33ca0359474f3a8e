"""What the two Python references share: MNIST IDX reading, the paper's split, the command
line, the validation pass and the epoch line that tools/compare reads. The training step
itself is written out in each (torch_ep.py, numpy_ep.py)."""
import argparse
import os
import struct
import sys

import numpy as np


def read_idx(path, magic):
    with open(path, "rb") as f:
        data = f.read()
    found, count = struct.unpack(">II", data[:8])
    if found != magic:
        sys.exit(f"{os.path.basename(sys.argv[0])}: {path}: wrong magic {found:#x}")
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, count * rows * cols, 16).reshape(count, rows * cols)
    return np.frombuffer(data, np.uint8, count, 8)


def load_mnist(folder):
    """float32 pixels in [0,1] and int64 labels: train = first 50,000, valid = last 10,000."""
    images = read_idx(os.path.join(folder, "train-images-idx3-ubyte"), 0x803)
    labels = read_idx(os.path.join(folder, "train-labels-idx1-ubyte"), 0x801).astype(np.int64)
    x = images.astype(np.float32) / np.float32(255)
    return x[:50000], labels[:50000], x[50000:], labels[50000:]


def parse_args(description, threads_option, extra=None):
    """extra(p): a script's own options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--epochs", type=int, default=1)
    if threads_option:
        p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--hidden", default="500")
    p.add_argument("--alphas", default="0.1 0.05")
    p.add_argument("--n-free", type=int, default=20)
    p.add_argument("--n-nudged", type=int, default=4)
    p.add_argument("--beta", type=float, default=0.5)
    p.add_argument("--eps", type=float, default=0.5)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    if extra:
        extra(p)
    return p.parse_args()


def validation_errors(relax, W, b, x_va, y_va, part_va, L, steps, predicted=None):
    """Free phase of `steps` from the validation particles (updated in place), 1,000 images
    at a time; works on NumPy arrays and PyTorch tensors alike. Returns the error count;
    predicted (a list), if given, receives each batch's predicted classes."""
    errors = 0
    for first in range(0, 10000, 1000):
        idx = slice(first, first + 1000)
        h = relax([x_va[idx]] + [part_va[k][idx] for k in range(1, L + 1)], x_va[idx] @ W[1] + b[1], steps)
        for k in range(1, L + 1):
            part_va[k][idx] = h[k]
        errors += int((h[L].argmax(1) != y_va[idx]).sum())
        if predicted is not None:
            predicted.append(h[L].argmax(1))
    return errors


def print_epoch(epoch, train_errors, valid_errors, seconds, train_seconds, train_count=50000):
    """The epoch line; tools/compare reads its fields by position."""
    print(f"epoch {epoch} train_error {100.0 * train_errors / train_count:.3f} valid_error {valid_errors / 100.0:.2f} "
          f"seconds {seconds:.2f} samples_per_second {train_count / train_seconds:.0f}", flush=True)
