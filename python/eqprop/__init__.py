"""eqprop: Equilibrium Propagation (Scellier & Bengio 2017) on the CPU, from Python.

The same engine, options, data checks and checkpoints as the ``eqprop`` command line:

    import eqprop
    cfg = eqprop.Config("configs/net1.cfg", epochs=2, threads=2)
    train, valid, test = eqprop.datasets.mnist("data/mnist")
    trainer = eqprop.Trainer(cfg, train, valid)
    history = trainer.fit()
    print(trainer.evaluate(test)["error"])

docs/python.md describes every call. Bad options and arrays raise ValueError naming the option
or array, missing or unreadable files OSError, a diverged run eqprop.DivergenceError.
"""
from . import _core, datasets
from ._core import DivergenceError
from .datasets import Dataset

__version__ = _core.version()
__all__ = ["Config", "Dataset", "Trainer", "load", "datasets", "DivergenceError", "blas_kernel", "__version__"]


def blas_kernel():
    """The OpenBLAS kernels this process uses. Results are bit-identical to the command line's
    when both use the same kernels (the CLI prints its own; set OPENBLAS_CORETYPE before Python
    starts to choose them)."""
    return _core.blas_kernel()


def _words(options):
    """Keyword arguments as the command line's words: alphas=(0.1, 0.05) is --alphas=0.1 0.05,
    n_free=20 is --n-free=20, flip=True is --flip=true."""
    words = []
    for key, value in options.items():
        name = key.replace("_", "-")
        if value is None:
            raise ValueError(f"option '{name}': None is not a value (leave the option out for its default)")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            text = " ".join(str(v) for v in value)
        else:
            text = str(value)
        words.append(f"--{name}={text}")
    return words


def _scalar(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text, text)


class Config:
    """A training configuration: the keys of ``eqprop train --help``, with underscores or dashes
    (``n_free=20``), optionally over a config file (``Config("configs/net1.cfg", epochs=2)``).
    Validated on construction with the command line's messages (ValueError)."""

    def __init__(self, file=None, **options):
        if file is not None:
            options = {"config": str(file), **options}
        self._c = _core.parse_config(_words(options))

    @classmethod
    def _wrap(cls, core_config):
        c = cls.__new__(cls)
        c._c = core_config
        return c

    def replace(self, **options):
        """A copy with these options changed (validated as the constructor)."""
        return Config._wrap(_core.parse_config_over(_words(options), self._c))

    def dump(self):
        """The effective configuration in config-file syntax (``eqprop train --dump-config``)."""
        return self._c.dump()

    def as_dict(self):
        out = {}
        for line in self.dump().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                out[key.strip()] = _scalar(value.strip())
        return out

    def __getitem__(self, key):
        d = self.as_dict()
        name = key.replace("_", "-")
        if name not in d:
            raise KeyError(key)
        return d[name]

    def __repr__(self):
        return "eqprop.Config(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


def _data(split, name):
    if split is None:
        return None
    if isinstance(split, Dataset):
        return split._d
    if isinstance(split, tuple) and len(split) == 2:
        return Dataset(split[0], split[1], name=name)._d
    raise ValueError(f"{name}: expected an eqprop.Dataset or an (images, labels) tuple, found {type(split).__name__}")


class Trainer:
    """One training run: a fresh one from a Config and the splits, or one loaded from a
    checkpoint with eqprop.load(). train and valid are eqprop.Dataset objects or (images,
    labels) tuples of NumPy arrays; valid may be None (no validation)."""

    def __init__(self, config, train, valid=None, threads=None, *, _core_trainer=None):
        if _core_trainer is not None:
            self._t = _core_trainer
            return
        if not isinstance(config, Config):
            raise ValueError(f"config: expected an eqprop.Config, found {type(config).__name__}")
        if threads is not None:
            config = config.replace(threads=threads)
        self._t = _core.Trainer(config._c, _data(train, "train"), _data(valid, "valid"))

    # -- training --------------------------------------------------------------------------
    def train_epoch(self):
        """Trains the rest of the current epoch (or a new one) and validates: the epoch's
        metrics as a dict (the keys of the CLI's --metrics lines). Ctrl-C raises
        KeyboardInterrupt at the next minibatch boundary; the trainer stays consistent and a
        later call continues the epoch where it stopped."""
        return self._t.train_epoch()

    def train_minibatches(self, n=1):
        """Trains up to n minibatches of the current epoch (starting a new epoch if none is
        open) and stops early where the epoch's pass ends; train_epoch() then validates and
        closes the epoch (training nothing more). For tracing a run minibatch by minibatch: a
        list with one dict per minibatch trained: 'position' (its first sample in the epoch's
        order), 'examples' (the training rows it used), 'beta' (the signed beta of its nudged
        phase), and its free phase's 'error', 'errors', 'count', 'energy', 'cost', 'steps',
        'nudged_steps' (per phase) and 'active' (per class, the rows whose output unit is
        above 0, or with the cross-entropy readout the rows predicting it). The results do not
        depend on how an epoch is cut into calls."""
        return self._t.train_minibatches(int(n))

    def particles(self, rows=None, split="train"):
        """Copies of the persistent particles (each example's last free-phase state) of the
        examples `rows` (indices into the split; default all) of the 'train' or 'valid' split:
        a list of float32 arrays [N x n_k] (conv layers [N x C x H x W]) for the layers in the
        dynamics. ValueError when the run keeps no particles."""
        import numpy as np

        if split not in ("train", "valid"):
            raise ValueError(f"split: expected 'train' or 'valid', found {split!r}")
        count = len(self.train) if split == "train" else (len(self.valid) if self.valid is not None else 0)
        idx = np.arange(count) if rows is None else np.asarray(rows, dtype=np.int64).reshape(-1)
        return self._t.particles(split, idx.tolist())

    def fit(self, epochs=None, callback=None):
        """Trains until `epochs` epochs are done in all (default: the configuration's; the
        learning-rate schedule follows the configuration's epochs). callback(metrics) runs after
        each epoch; returning False stops. Returns the metrics of the epochs trained here."""
        target = self.config["epochs"] if epochs is None else int(epochs)
        history = []
        while self.epochs_done < target:
            metrics = self.train_epoch()
            history.append(metrics)
            if callback is not None and callback(metrics) is False:
                break
        return history

    # -- evaluation and states ---------------------------------------------------------------
    def evaluate(self, data, labels=None, steps=None, from_zero=True, threads=None):
        """Error (percent), error count, mean energy and cost of a free phase of `steps` (default:
        test-steps) on `data` (a Dataset, or images with labels). from_zero=False relaxes the
        trainer's own validation split from its persistent particles (n-free steps by default)."""
        split = data if labels is None else Dataset(data, labels, name="evaluated")
        d = _data(split, "data")
        with _Threads(self, threads):
            return self._t.evaluate(d, steps or 0, not from_zero)

    def relax(self, x, beta=0.0, target=None, steps=None, nudged_steps=None, threads=None):
        """The equilibrium states of every layer for the images x (an array or a Dataset): the
        free phase of `steps` (default test-steps) from zero states, and with beta != 0 then the
        nudged phase of `nudged_steps` (default n-nudged) toward `target` (labels). A list of
        float32 arrays, one per layer: (N, n_k) for dense layers, (N, C, H, W) for conv layers.
        With the cross-entropy readout the last is the readout's nudge beta (onehot - softmax)."""
        if isinstance(x, Dataset):
            split = x
        else:
            import numpy as np

            if target is None:
                if beta != 0:
                    raise ValueError("target: a nudged phase (beta != 0) needs the target labels")
                target = np.zeros(len(x), dtype=np.int64)
            split = Dataset(x, target, name="relaxed")
        with _Threads(self, threads):
            return self._t.relax(split._d, float(beta), steps or 0, nudged_steps or 0)

    # -- parameters and checkpoints ----------------------------------------------------------
    @property
    def weights(self):
        """Copies of W_1..W_L: dense [n_{k-1} x n_k], conv [C_out x C_in x K x K]. Assigning a
        list of arrays of the same shapes sets them (ValueError naming a wrong one)."""
        return self._t.weights

    @weights.setter
    def weights(self, arrays):
        self._t.weights = list(arrays)

    @property
    def biases(self):
        """Copies of b_1..b_L; settable as weights."""
        return self._t.biases

    @biases.setter
    def biases(self, arrays):
        self._t.biases = list(arrays)

    def save(self, path, particles=True):
        """A checkpoint in the CLI's format, written atomically (``eqprop train --resume PATH``,
        ``eqprop eval PATH`` and eqprop.load read it). particles=False: model only
        (always, without persistent particles: nothing reads them)."""
        self._t.save(str(path), bool(particles))

    @property
    def config(self):
        return Config._wrap(self._t.config)

    @property
    def epochs_done(self):
        return self._t.epochs_done

    @property
    def curves(self):
        """The metrics of every finished epoch of the run (also those before a resume)."""
        return self._t.curves

    @property
    def threads(self):
        return self._t.threads

    @threads.setter
    def threads(self, n):
        self._t.threads = int(n)

    @property
    def train(self):
        return Dataset._wrap(self._t.train)

    @property
    def valid(self):
        v = self._t.valid
        return None if v is None else Dataset._wrap(v)


class _Threads:
    """threads= on one call: the trainer's thread count for its duration."""

    def __init__(self, trainer, threads):
        self.t, self.n, self.old = trainer, threads, None

    def __enter__(self):
        if self.n is not None:
            self.old, self.t.threads = self.t.threads, self.n

    def __exit__(self, *exc):
        if self.old is not None:
            self.t.threads = self.old


def load(path, train=None, valid=None, threads=None, **options):
    """A Trainer from a checkpoint (the CLI's or Trainer.save's), continuing exactly where it
    stopped. options override the stored configuration as ``eqprop train --resume PATH
    --key value`` does. Without train/valid, the run's own data files are read (and checked
    against the run); with them, they must have the run's shape and classes."""
    path = str(path)
    with open(path, "rb"):  # a missing or unreadable file: the OSError of open()
        pass
    if threads is not None:
        options["threads"] = threads
    if train is None and valid is not None:
        raise ValueError("valid: give train too (or neither, to read the run's own files)")
    t = _core.load(path, _words(options), _data(train, "train"), _data(valid, "valid"))
    return Trainer(None, None, _core_trainer=t)
