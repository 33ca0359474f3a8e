"""eqprop from Python: the paper's 784-500-10 network (net1) trained on MNIST from NumPy arrays,
its curves, and the relaxed hidden states of a few test images, in one PNG.

    tools/setup.sh --python && .venv/bin/python examples/quickstart.py

Options: --epochs N (2), --train-samples N (all 50,000), --threads N, --data DIR (data/mnist),
--out PNG (quickstart.png).
"""
import argparse
import pathlib
import time

import matplotlib

matplotlib.use("Agg")  # a file, no display needed
import matplotlib.pyplot as plt
import numpy as np

import eqprop


def read_idx(path):
    """An IDX file of MNIST as a NumPy array (any array would do: eqprop takes uint8 or float32)."""
    raw = pathlib.Path(path).read_bytes()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--train-samples", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--out", default="quickstart.png")
    a = ap.parse_args()

    x = read_idx(f"{a.data}/train-images-idx3-ubyte")
    y = read_idx(f"{a.data}/train-labels-idx1-ubyte")
    x_test = read_idx(f"{a.data}/t10k-images-idx3-ubyte")
    y_test = read_idx(f"{a.data}/t10k-labels-idx1-ubyte")
    # The paper's split: the first 50,000 images train, the last 10,000 validate.
    train = eqprop.Dataset(x[:50000], y[:50000])
    valid = eqprop.Dataset(x[50000:], y[50000:], name="valid")

    # net1 with the paper's settings (the same keys as `eqprop train --help`).
    options = dict(hidden=500, alphas=(0.1, 0.05), beta=0.5, eps=0.5, n_free=20, n_nudged=4, batch=20,
                   epochs=a.epochs, train_samples=a.train_samples, progress=False)
    if a.threads:
        options["threads"] = a.threads
    config = eqprop.Config(**options)
    trainer = eqprop.Trainer(config, train, valid)
    print(f"eqprop {eqprop.__version__}, {trainer.threads} threads, OpenBLAS {eqprop.blas_kernel()} kernels")

    def report(m):
        print(f"epoch {m['epoch']}: train error {m['train_error']:.2f}%, valid error {m['valid_error']:.2f}%, "
              f"{m['samples_per_second']:.0f} samples/s")

    t0 = time.time()
    history = trainer.fit(callback=report)
    test = trainer.evaluate(x_test, y_test)
    print(f"test error {test['error']:.2f}% ({test['errors']} of {test['count']}), {time.time() - t0:.1f} s in all")

    # The hidden layer's equilibrium states of eight test images, free and nudged toward their labels.
    free = trainer.relax(x_test[:8])
    nudged = trainer.relax(x_test[:8], beta=0.5, target=y_test[:8])

    fig = plt.figure(figsize=(11, 6.5))
    grid = fig.add_gridspec(3, 8)
    curves = fig.add_subplot(grid[0, :4])
    epochs = [m["epoch"] for m in history]
    curves.plot(epochs, [m["train_error"] for m in history], "o-", label="train")
    curves.plot(epochs, [m["valid_error"] for m in history], "s-", label="valid")
    curves.set_xlabel("epoch")
    curves.set_ylabel("error (%)")
    curves.set_xticks(epochs)
    curves.legend()
    curves.set_title("net1 (784-500-10) on MNIST")
    out = fig.add_subplot(grid[0, 4:])
    out.imshow(np.concatenate([free[-1], nudged[-1]], axis=1), cmap="viridis", vmin=0, vmax=1, aspect="auto")
    out.set_title("output states: free | nudged (beta 0.5)")
    out.set_xlabel("class (0-9 | 0-9)")
    out.set_ylabel("test image")
    for i in range(8):
        img = fig.add_subplot(grid[1, i])
        img.imshow(x_test[i], cmap="gray")
        img.set_title(f"label {y_test[i]}, says {free[-1][i].argmax()}", fontsize=8)
        img.axis("off")
        hid = fig.add_subplot(grid[2, i])
        hid.imshow(free[0][i].reshape(20, 25), cmap="magma", vmin=0, vmax=1)
        hid.set_title("hidden (500)", fontsize=8)
        hid.axis("off")
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
