"""`eqprop predict` through the binary: it agrees with `eval` on the test split, its three
output formats hold the same predictions, and bad input is refused with exit 2."""
import json

import numpy as np

from test_cli_training import BIN, CONFIGS, DATA, run, write_idx  # noqa: F401 (BIN: the binary under test)

TRAIN = [f"--config={CONFIGS}/net1.cfg", f"--data={DATA}", "--train-samples=2000", "--valid-samples=500",
         "--epochs=1", "--alphas=0.4 0.2", "--threads=2", "--progress=false"]
TEST_IMAGES, TEST_LABELS = f"{DATA}/t10k-images-idx3-ubyte", f"{DATA}/t10k-labels-idx1-ubyte"


def trained(tmp_path, *extra):
    run("train", *TRAIN, *extra, f"--checkpoint={tmp_path}/run.ck")
    return tmp_path / "run.ck"


def test_predict_agrees_with_eval_in_every_output_format(tmp_path):
    ck = trained(tmp_path)
    ev = json.loads(run("eval", "--checkpoint", ck, "--json").stdout)
    r = run("predict", "--checkpoint", ck, "--input", TEST_IMAGES, "--labels", TEST_LABELS, "--output",
            tmp_path / "p.npz", "--states", "--threads=1")
    assert f"{ev['errors']} errors" in r.stdout and "p.npz" in r.stdout
    with np.load(tmp_path / "p.npz") as z:
        p = {k: z[k] for k in z.files}
    assert sorted(p) == ["h1", "h2", "labels", "predicted", "scores"]
    assert p["h1"].shape == (10000, 500) and p["scores"].shape == (10000, 10) and p["predicted"].dtype == np.int64
    assert int((p["predicted"] != p["labels"]).sum()) == ev["errors"] > 0
    assert np.array_equal(p["scores"].argmax(1), p["predicted"])
    assert np.array_equal(p["h2"], p["scores"])  # squared-error readout: the scores are the output states
    # CSV on standard output (the summary on standard error), unlabelled: the same scores, bit for bit.
    out = run("predict", "--checkpoint", ck, "--input", TEST_IMAGES, "--threads=2")
    assert "errors" not in out.stderr and "10000 images of 1x28x28" in out.stderr
    rows = out.stdout.splitlines()
    assert rows[0] == "index,predicted," + ",".join(f"score_{c}" for c in range(10)) and len(rows) == 10001
    csv = np.loadtxt(rows[1:], delimiter=",", dtype=np.float64)
    assert np.array_equal(csv[:, 1].astype(np.int64), p["predicted"])
    assert np.array_equal(csv[:, 2:].astype(np.float32), p["scores"])
    run("predict", "--checkpoint", ck, "--input", TEST_IMAGES, "--output", tmp_path / "p.npy")
    assert np.array_equal(np.load(tmp_path / "p.npy"), p["predicted"])
    # A .npy of images with .npy labels: the first 300 test images.
    images = np.fromfile(TEST_IMAGES, dtype=np.uint8, offset=16).reshape(10000, 28, 28)[:300]
    labels = np.fromfile(TEST_LABELS, dtype=np.uint8, offset=8)[:300].astype(np.int64)
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", labels)
    run("predict", "--checkpoint", ck, "--input", tmp_path / "x.npy", "--labels", tmp_path / "y.npy",
        "--output", tmp_path / "q.csv")
    q = np.loadtxt(tmp_path / "q.csv", delimiter=",", skiprows=1)
    assert np.array_equal(q[:, 1], p["predicted"][:300]) and np.array_equal(q[:, 2], labels)


def test_predict_on_a_convnet_from_an_npz(tmp_path):
    npz = tmp_path / "mnist.npz"
    run("make-dataset", "--data", DATA, "--npz", npz)
    run("train", "--dataset=npz", f"--data={npz}", "--layers=conv:4:5:pool2", "--readout=cross-entropy",
        "--nudging=symmetric", "--persistent-particles=false", "--n-free=10", "--n-nudged=4", "--test-steps=10",
        "--valid-count=10000", "--train-samples=500", "--valid-samples=100", "--epochs=1", "--alphas=0.05 0.02", "--progress=false",
        f"--checkpoint={tmp_path}/conv.ck")
    ev = json.loads(run("eval", "--checkpoint", tmp_path / "conv.ck", "--json").stdout)
    # The archive's x_test and y_test (it has no x): the same errors as eval's test split.
    r = run("predict", "--checkpoint", tmp_path / "conv.ck", "--input", npz, "--output", tmp_path / "p.npz",
            "--states")
    assert f"; {ev['errors']} errors" in r.stdout and "(y_test)" in r.stdout
    with np.load(tmp_path / "p.npz") as z:
        assert z["h1"].shape == (10000, 4, 12, 12) and z["scores"].shape == (10000, 10)
        assert "h2" not in z.files  # the cross-entropy readout has no states: its logits are the scores
        assert int((z["predicted"] != z["labels"]).sum()) == ev["errors"]


def test_predict_refuses_bad_input(tmp_path):
    ck = trained(tmp_path)
    rng = np.random.default_rng(2)
    write_idx(tmp_path / "flat", rng.integers(0, 256, (20, 784, 1)))
    np.save(tmp_path / "f64.npy", rng.random((20, 28, 28)))
    bad_float = rng.random((20, 28, 28)).astype(np.float32)
    bad_float[3, 4, 5] = np.nan
    np.save(tmp_path / "nan.npy", bad_float)
    np.save(tmp_path / "y20.npy", rng.integers(0, 10, 20))
    np.save(tmp_path / "x20.npy", rng.integers(0, 256, (20, 28, 28)).astype(np.uint8))
    np.save(tmp_path / "y_big.npy", np.full(20, 10))
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 28, 28), np.uint8), b=np.zeros(2))
    cases = [
        (["--input", TEST_IMAGES], "--checkpoint"),
        (["--checkpoint", ck], "--input"),
        (["--checkpoint", ck, "--input", tmp_path / "none"], "no such file"),
        (["--checkpoint", tmp_path / "none.ck", "--input", TEST_IMAGES], "none.ck"),
        (["--checkpoint", ck, "--input", TEST_LABELS], "1 dimensions"),
        (["--checkpoint", ck, "--input", tmp_path / "flat"], "784x1"),
        (["--checkpoint", ck, "--input", tmp_path / "f64.npy"], "float64"),
        (["--checkpoint", ck, "--input", tmp_path / "nan.npy"], "NaN in image 3"),
        (["--checkpoint", ck, "--input", TEST_IMAGES, "--labels", f"{DATA}/train-labels-idx1-ubyte"], "60000 labels"),
        (["--checkpoint", ck, "--input", tmp_path / "x20.npy", "--labels", tmp_path / "y_big.npy"], "10"),
        (["--checkpoint", ck, "--input", tmp_path / "two.npz"], "which are the images"),
        (["--checkpoint", ck, "--input", TEST_IMAGES, "--output", tmp_path / "p.txt"], ".csv, .npy or .npz"),
        (["--checkpoint", ck, "--input", TEST_IMAGES, "--output", tmp_path / "p.npy", "--states"], ".npz or .csv"),
        (["--checkpoint", ck, "--input", TEST_IMAGES, "--output", tmp_path / "no" / "p.csv"], "does not exist"),
    ]
    for args, says in cases:
        r = run("predict", *args, check=False)
        assert r.returncode == 2 and says in r.stderr and r.stdout == "", (args, r.returncode, r.stderr)
    assert not (tmp_path / "p.npy").exists() and not (tmp_path / "p.txt").exists()
    # Unlabelled images of the right shape are fine: no error figure, a prediction per image.
    r = run("predict", "--checkpoint", ck, "--input", tmp_path / "x20.npy", "--labels", tmp_path / "y20.npy")
    assert len(r.stdout.splitlines()) == 21 and "errors" in r.stderr
    assert "usage: eqprop predict" in run("predict", "--help").stdout
