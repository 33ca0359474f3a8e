"""What the two Python references share: MNIST IDX reading, the paper's split and the
command line. The algorithm itself is written out in each (torch_ep.py, numpy_ep.py)."""
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


def parse_args(description, threads_option):
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
    return p.parse_args()
