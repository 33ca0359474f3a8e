"""The Python package against the command line (same bits, same checkpoints), its data paths,
its errors, the GIL and Ctrl-C. Run by `meson test` (the test 'python'), which sets
PYTHONPATH to the build's package and EQPROP_BIN / EQPROP_DATA / EQPROP_CONFIGS."""
import os
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import eqprop

BIN = os.environ.get("EQPROP_BIN", "build/eqprop")
DATA = os.environ.get("EQPROP_DATA", "data/mnist")
CONFIGS = os.environ.get("EQPROP_CONFIGS", "configs")

# Small runs: the first 2,000 training and 500 validation images.
SMALL = dict(train_samples=2000, valid_samples=500, data=DATA, progress=False)
# A convnet with the cross-entropy readout, centered nudging and momentum.
CONV = dict(layers="conv:4:5:pool2", readout="cross-entropy", nudging="symmetric", n_free=8, n_nudged=3,
            test_steps=8, persistent_particles=False, batch=16, alphas=(0.05, 0.02), momentum=0.9,
            lr_schedule="cosine", train_samples=480, valid_samples=100, data=DATA, progress=False)


def cli(*args, check=True):
    """The command line with the kernels of this process's OpenBLAS, so sums round alike."""
    env = dict(os.environ, OPENBLAS_CORETYPE=eqprop.blas_kernel())
    r = subprocess.run([BIN, *map(str, args)], env=env, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"eqprop {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}")
    return r


def cli_words(options):
    return [w for w in eqprop._words(options)]


def exported(tmp_path, checkpoint):
    npz = tmp_path / "w.npz"
    cli("export", checkpoint, "--npz", npz)
    with np.load(npz) as z:
        return {k: z[k] for k in z.files}


def assert_same_parameters(trainer, arrays):
    for k, (w, b) in enumerate(zip(trainer.weights, trainer.biases), start=1):
        assert w.shape == arrays[f"W{k}"].shape
        assert np.array_equal(w, arrays[f"W{k}"]), f"W{k} differs"
        assert np.array_equal(b, arrays[f"b{k}"]), f"b{k} differs"


@pytest.mark.parametrize("name,config,options", [
    ("net1", "net1.cfg", dict(epochs=2, threads=2, **SMALL)),
    ("conv", None, dict(epochs=2, threads=2, **CONV)),
])
def test_python_and_cli_give_the_same_bits(tmp_path, name, config, options):
    ck = tmp_path / "run.ck"
    file = [f"--config={CONFIGS}/{config}"] if config else []
    cli("train", *file, *cli_words(options), "--checkpoint", ck)
    cfg = eqprop.Config(f"{CONFIGS}/{config}" if config else None, **options)
    t = eqprop.Trainer(cfg, *eqprop.datasets.load(cfg)[:2])
    history = t.fit()
    assert [m["epoch"] for m in history] == [1, 2]
    assert_same_parameters(t, exported(tmp_path, ck))
    # The same from NumPy arrays of the same images.
    tr, va, _ = eqprop.datasets.load(cfg)
    t2 = eqprop.Trainer(cfg, (tr.images, tr.labels), (va.images, va.labels))
    t2.fit()
    assert_same_parameters(t2, exported(tmp_path, ck))


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def test_numpy_arrays_equal_the_idx_path(tmp_path):
    x = read_idx(f"{DATA}/train-images-idx3-ubyte")
    y = read_idx(f"{DATA}/train-labels-idx1-ubyte")
    splits = eqprop.datasets.mnist(DATA, progress=False)
    assert (len(splits.train), len(splits.valid), len(splits.test)) == (50000, 10000, 10000)
    # The paper's split: the first 50,000 train, the last 10,000 validate.
    assert np.array_equal(splits.train.images[:, 0], x[:50000])
    assert np.array_equal(splits.valid.images[:, 0], x[50000:])
    assert np.array_equal(splits.train.labels, y[:50000])
    assert np.array_equal(splits.valid.labels, y[50000:])
    train = eqprop.Dataset(x[:50000], y[:50000])
    valid = eqprop.Dataset(x[50000:], y[50000:], name="valid")
    assert train.zero_copy and valid.zero_copy  # contiguous uint8 slices: no copy
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=1, **SMALL)
    a = eqprop.Trainer(cfg, train, valid)
    b = eqprop.Trainer(cfg, splits.train, splits.valid)
    ma, mb = a.train_epoch(), b.train_epoch()
    assert (ma["train_error"], ma["valid_error"], ma["cost"]) == (mb["train_error"], mb["valid_error"], mb["cost"])
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases):
        assert np.array_equal(wa, wb)
    # Float32 images b / 255 are the same inputs as the bytes b.
    f = eqprop.Trainer(cfg, (x[:50000].astype(np.float32) / np.float32(255), y[:50000]),
                       (x[50000:].astype(np.float32) / np.float32(255), y[50000:]))
    f.train_epoch()
    for wf, wb in zip(f.weights, b.weights):
        np.testing.assert_allclose(wf, wb, rtol=0, atol=1e-5)


def test_cli_checkpoint_python_resume_cli_eval(tmp_path):
    options = dict(epochs=2, threads=2, **SMALL)
    words = [f"--config={CONFIGS}/net1.cfg", *cli_words(options)]
    whole, part, resumed = tmp_path / "whole.ck", tmp_path / "part.ck", tmp_path / "resumed.ck"
    cli("train", *words, "--checkpoint", whole)
    # Stopped inside epoch 1 (after 30 of its 100 minibatches), resumed in Python, saved.
    cli("train", *words, "--checkpoint", part, "--max-minibatches", 30)
    t = eqprop.load(part, threads=1)
    assert (t.epochs_done, t._t.in_epoch, t._t.cursor) == (0, True, 600)
    t.fit()
    t.save(resumed)
    # Back to the command line: the same test figures and the same parameters.
    a = cli("eval", "--checkpoint", whole, "--split", "test").stdout.splitlines()[0]
    b = cli("eval", "--checkpoint", resumed, "--split", "test").stdout.splitlines()[0]
    assert a == b and "test error" in a
    assert_same_parameters(t, exported(tmp_path, whole))
    # And the curves came along: both epochs, the first begun on the command line.
    assert [m["epoch"] for m in t.curves] == [1, 2]


def test_bad_options_raise_value_error_naming_them():
    with pytest.raises(ValueError, match="epochs"):
        eqprop.Config(epochs=-1)
    with pytest.raises(ValueError, match="no-such-key"):
        eqprop.Config(no_such_key=1)
    with pytest.raises(ValueError, match="nudging"):
        eqprop.Config(nudging="sideways")
    with pytest.raises(ValueError, match="layers"):
        eqprop.Config(layers="conv:0:5")
    with pytest.raises(ValueError, match="dump-config"):
        eqprop.Config(dump_config=True)
    with pytest.raises(ValueError, match="alphas"):
        eqprop.Config(alphas=(0.1, 0.05, 0.01))  # three rates for two weight layers
    assert eqprop.Config(n_free=7)["n-free"] == 7


def small_arrays(n=200, dtype=np.uint8):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(n, 28, 28)).astype(dtype)
    y = rng.integers(0, 10, size=n)
    return x, y


def test_bad_arrays_raise_value_error_naming_them():
    x, y = small_arrays()
    with pytest.raises(ValueError, match="images.*dtype float64"):
        eqprop.Dataset(x.astype(np.float64), y)
    with pytest.raises(ValueError, match="images.*dimensions"):
        eqprop.Dataset(x[0], y[:28])
    with pytest.raises(ValueError, match="images.*shape="):
        eqprop.Dataset(x.reshape(200, -1), y, shape=(1, 27, 29))
    assert eqprop.Dataset(x.reshape(200, -1), y, shape=(1, 28, 28)).shape == (1, 28, 28)
    with pytest.raises(ValueError, match="labels.*one label per image"):
        eqprop.Dataset(x, y[:10])
    with pytest.raises(ValueError, match="labels.*dtype float"):
        eqprop.Dataset(x, y.astype(np.float32))
    with pytest.raises(ValueError, match="labels.*label -1"):
        eqprop.Dataset(x, np.full(200, -1))
    nan = x.astype(np.float32)
    nan[3, 4, 5] = np.nan
    cfg = eqprop.Config(epochs=1, batch=20, progress=False)
    with pytest.raises(ValueError, match="image 3 holds NaN"):
        eqprop.Trainer(cfg, (nan, y))
    with pytest.raises(ValueError, match="label 10 at index 0 is outside 0-9"):
        eqprop.Trainer(cfg.replace(classes=10), (x, np.full(200, 10)))
    t = eqprop.Trainer(cfg, (x, y), (x[:50], y[:50]))
    with pytest.raises(ValueError, match="images of 1x28x27"):
        t.evaluate(x[:, :, :27].copy(), y)
    with pytest.raises(ValueError, match="layers.*conv"):
        eqprop.Trainer(eqprop.Config(layers="conv:4:29"), (x, y))
    with pytest.raises(ValueError, match=r"weights\[1\]: shape \(500, 9\), expected \(500, 10\)"):
        t.weights = [t.weights[0], np.zeros((500, 9))]
    with pytest.raises(ValueError, match="NaN"):
        t.biases = [np.full(500, np.nan), t.biases[1]]
    with pytest.raises(ValueError, match="expected 2 arrays"):
        t.weights = [t.weights[0]]
    w = [np.ones_like(a) for a in t.weights]
    t.weights = w
    assert all(np.array_equal(a, b) for a, b in zip(t.weights, w))
    with pytest.raises(ValueError, match="target"):
        t.relax(x[:5], beta=0.5)
    with pytest.raises(ValueError, match="batch"):
        eqprop.Trainer(cfg.replace(batch=500), (x, y))


def test_files_raise_os_error_or_value_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        eqprop.load(tmp_path / "missing.ck")
    bad = tmp_path / "bad.ck"
    bad.write_bytes(b"not a checkpoint at all" * 10)
    with pytest.raises(ValueError, match="bad.ck"):
        eqprop.load(bad)
    with pytest.raises(OSError):
        eqprop.datasets.mnist(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(OSError, match="no such file"):
        eqprop.datasets.mnist(tmp_path / "empty")
    x, y = small_arrays()
    t = eqprop.Trainer(eqprop.Config(epochs=1, progress=False), (x, y))
    with pytest.raises(OSError):
        t.save(tmp_path / "no" / "such" / "folder" / "x.ck")


def test_relax_gives_every_layer(tmp_path):
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=1, **SMALL)
    tr, va, te = eqprop.datasets.load(cfg)
    t = eqprop.Trainer(cfg, tr, va)
    t.train_epoch()
    free = t.relax(te.images[:8])
    assert [s.shape for s in free] == [(8, 500), (8, 10)]
    assert all(s.dtype == np.float32 and s.min() >= 0 and s.max() <= 1 for s in free)
    # The free states' predictions are evaluate()'s.
    errors = int((free[-1].argmax(1) != te.labels[:8]).sum())
    assert errors == t.evaluate(te.images[:8], te.labels[:8])["errors"]
    # Nudging toward the labels moves the output toward them.
    nudged = t.relax(te.images[:8], beta=1.0, target=te.labels[:8])
    onehot = np.eye(10, dtype=np.float32)[te.labels[:8]]
    assert ((nudged[-1] - onehot) ** 2).sum() < ((free[-1] - onehot) ** 2).sum()
    conv = eqprop.Trainer(eqprop.Config(**CONV), *eqprop.datasets.load(eqprop.Config(**CONV))[:2])
    assert [s.shape for s in conv.relax(te.images[:3])] == [(3, 4, 12, 12), (3, 10)]
    assert [w.shape for w in conv.weights] == [(4, 1, 5, 5), (576, 10)]


def test_fit_callback_stops_and_metrics_are_the_cli_keys():
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=5, **SMALL)
    t = eqprop.Trainer(cfg, *eqprop.datasets.load(cfg)[:2])
    seen = []
    history = t.fit(callback=lambda m: seen.append(m["epoch"]) or m["epoch"] < 2)
    assert seen == [1, 2] and len(history) == 2 and t.epochs_done == 2
    assert {"epoch", "train_error", "valid_error", "seconds", "samples_per_second"} <= set(history[0])


def test_gil_is_released_while_training():
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=1, threads=1, train_samples=20000, valid_samples=500,
                        data=DATA, progress=False)
    t = eqprop.Trainer(cfg, *eqprop.datasets.load(cfg)[:2])
    count, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            count[0] += 1

    th = threading.Thread(target=spin)
    th.start()
    time.sleep(0.05)
    before = count[0]
    t0 = time.time()
    t.train_epoch()
    seconds = time.time() - t0
    during = count[0] - before
    stop.set()
    th.join()
    # With the GIL held for the epoch the other thread would not count at all.
    assert seconds > 0.2 and during > 10000


def test_ctrl_c_raises_keyboard_interrupt_and_training_goes_on():
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=1, threads=1, train_samples=30000, valid_samples=500,
                        data=DATA, progress=False)
    data = eqprop.datasets.load(cfg)[:2]
    t = eqprop.Trainer(cfg, *data)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        t.train_epoch()
    timer.join()
    assert t.epochs_done == 0 and t._t.in_epoch and 0 < t._t.cursor < 30000
    m = t.train_epoch()  # continues the epoch where it stopped
    assert m["epoch"] == 1 and t.epochs_done == 1
    # ... and ends exactly as an uninterrupted run.
    u = eqprop.Trainer(cfg, *data)
    u.train_epoch()
    for a, b in zip(t.weights + t.biases, u.weights + u.biases):
        assert np.array_equal(a, b)


def test_train_minibatches_traces_a_run_with_the_same_bits():
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=1, threads=2, **SMALL)
    tr, va, _ = eqprop.datasets.load(cfg)
    t = eqprop.Trainer(cfg, tr, va)
    first = t.train_minibatches(3)
    assert [r["position"] for r in first] == [0, 20, 40]
    assert [list(r["examples"]) for r in first] == [list(range(i, i + 20)) for i in (0, 20, 40)]
    assert all(abs(r["beta"]) == cfg["beta"] and r["count"] == 20 for r in first)
    # Each record's figures are those of its examples' particles (their free-phase states).
    for r in first:
        h1, out = t.particles(r["examples"])
        assert h1.shape == (20, 500) and out.shape == (20, 10) and out.max() > 0
        assert int((out.argmax(1) != tr.labels[r["examples"]]).sum()) == r["errors"]
        assert np.array_equal((out > 0).sum(0), r["active"])
    assert not t.particles([1999])[1].any()  # not trained yet: still zero
    # The rest of the epoch in uneven pieces, then train_epoch() validates without training more.
    records = first
    while True:
        more = t.train_minibatches(37)
        if not more:
            break
        records += more
    assert len(records) == 100 and t._t.cursor == 2000
    m = t.train_epoch()
    assert m["epoch"] == 1 and abs(m["train_error"] - 100.0 * sum(r["errors"] for r in records) / 2000) < 1e-9
    u = eqprop.Trainer(cfg, tr, va)
    u.train_epoch()
    for a, b in zip(t.weights + t.biases, u.weights + u.biases):
        assert np.array_equal(a, b)
    signs = {np.sign(r["beta"]) for r in records}
    assert signs == {-1.0, 1.0}  # beta-sign random: both signs within 100 draws
    with pytest.raises(ValueError, match="n: expected"):
        t.train_minibatches(0)
    with pytest.raises(ValueError, match="split"):
        t.particles(split="test")
    with pytest.raises(IndexError, match="outside"):
        t.particles([2000])
    assert [p.shape for p in t.particles(split="valid")] == [(500, 500), (500, 10)]
    z = eqprop.Trainer(cfg.replace(persistent_particles=False), tr, va)
    with pytest.raises(ValueError, match="keeps none"):
        z.particles([0])


def test_zero_start_save_is_model_only_and_resumes_to_the_same_bits(tmp_path):
    # Without persistent particles nothing reads them: save() leaves them out even when asked,
    # and the checkpoint resumes (in Python and on the command line) to the same parameters.
    cfg = eqprop.Config(f"{CONFIGS}/net1.cfg", epochs=2, persistent_particles=False, **SMALL)
    tr, va, _ = eqprop.datasets.load(cfg)
    whole = eqprop.Trainer(cfg, tr, va)
    whole.fit()
    half = eqprop.Trainer(cfg, tr, va)
    half.train_epoch()
    ck = tmp_path / "half.ck"
    half.save(ck, particles=True)
    info = cli("info", ck).stdout
    assert "train particles" not in info and "persistent-particles = false" in info
    resumed = eqprop.load(ck)
    resumed.fit()
    for wa, wb in zip(whole.weights + whole.biases, resumed.weights + resumed.biases):
        assert np.array_equal(wa, wb)
    with pytest.raises(ValueError, match="keeps none"):
        resumed.particles([0])
