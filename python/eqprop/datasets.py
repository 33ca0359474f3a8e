"""Data for eqprop: NumPy arrays (eqprop.Dataset) and the built-in loaders, which read the
formats of the command line (MNIST and Fashion-MNIST IDX folders, any IDX pair, .npz,
CIFAR-10/100 binary folders) and cut the same splits as ``eqprop train``."""
import collections
import os

from . import _core

Splits = collections.namedtuple("Splits", ["train", "valid", "test"])


class Dataset:
    """The images and labels of one split.

    images: uint8 (a byte b is the value b / 255, as MNIST's files) or float32, shaped
    (N, H, W), (N, C, H, W), or (N, C*H*W) with shape=(C, H, W). A C-contiguous array is used
    without a copy (keep it unchanged while a trainer uses it); others are copied.
    labels: N integers, the class indices. Bad arrays raise ValueError naming them."""

    def __init__(self, images, labels, shape=None, name="train"):
        import numpy as np

        self._d = _core.make_data(np.asarray(images), np.asarray(labels), None if shape is None else list(shape), name)

    @classmethod
    def _wrap(cls, core_data):
        d = cls.__new__(cls)
        d._d = core_data
        return d

    def __len__(self):
        return self._d.count

    @property
    def shape(self):
        """(C, H, W) of one image."""
        return self._d.shape

    @property
    def classes(self):
        """The class count: the format's, or the largest label + 1."""
        return self._d.classes

    @property
    def images(self):
        """A copy of the images as (N, C, H, W), in their dtype."""
        return self._d.images

    @property
    def labels(self):
        return self._d.labels

    @property
    def dtype(self):
        return self._d.dtype

    @property
    def zero_copy(self):
        """True when the images are the caller's array, not a copy."""
        return self._d.zero_copy

    def __repr__(self):
        c, h, w = self.shape
        return f"eqprop.Dataset({len(self)} images of {c}x{h}x{w} {self.dtype}, {self.classes} classes)"


def load(config):
    """The splits an eqprop.Config names (its dataset, data, valid-count, train-samples, ...),
    exactly as ``eqprop train`` loads them: Splits(train, valid, test); test is None when the
    data set has no test file. A missing file raises OSError, a malformed one ValueError."""
    data = config.as_dict()["data"]
    if not os.path.exists(data):
        raise FileNotFoundError(f"data '{data}': no such file or folder (tools/setup.sh fetches MNIST; "
                                f"apt-get install dataset-fashion-mnist gives Fashion-MNIST)")
    train, valid, test = _core.load_data(config._c)
    return Splits(Dataset._wrap(train), Dataset._wrap(valid), None if test is None else Dataset._wrap(test))


def mnist(path="data/mnist", **options):
    """MNIST from its IDX folder: the paper's 50,000 / 10,000 / 10,000 splits (options as Config's)."""
    from . import Config

    return load(Config(dataset="mnist", data=str(path), **options))


def fashion_mnist(path="/usr/share/datasets/fashion-mnist", **options):
    """Fashion-MNIST from its IDX folder (Debian's dataset-fashion-mnist installs it there)."""
    from . import Config

    return load(Config(dataset="fashion-mnist", data=str(path), **options))
