"""What a researcher expects around `eqprop train`, through the binary: --keep-best and
--patience, also across a SIGINT and a resume."""
import json
import os
import signal
import subprocess
import time

import numpy as np

BIN = os.environ.get("EQPROP_BIN", "build/eqprop")
DATA = os.environ.get("EQPROP_DATA", "data/mnist")
CONFIGS = os.environ.get("EQPROP_CONFIGS", "configs")

# net1 on 2,000 images with large rates: validation bottoms out after a few epochs.
RUN = [f"--config={CONFIGS}/net1.cfg", f"--data={DATA}", "--train-samples=2000", "--valid-samples=500",
       "--epochs=14", "--alphas=0.4 0.2", "--threads=2", "--progress=false"]


def run(*args, check=True):
    r = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"eqprop {' '.join(map(str, args))}: exit {r.returncode}\n{r.stderr}")
    return r


def export(path, npz):
    run("export", path, "--npz", npz)
    with np.load(npz) as z:
        return {k: z[k] for k in z.files}


def metrics(path):
    return [json.loads(line) for line in open(path)]


def test_keep_best_and_patience(tmp_path):
    d = tmp_path
    r = run("train", *RUN, "--patience=2", f"--keep-best={d}/best.ck", f"--checkpoint={d}/run.ck",
            f"--metrics={d}/m.jsonl")
    lines = metrics(d / "m.jsonl")
    epochs = [m for m in lines if "epoch" in m]
    stop = [m["early_stop"] for m in lines if "early_stop" in m]
    assert len(stop) == 1 and "test_error" in lines[-1]
    valid = [m["valid_error"] for m in epochs]
    best = 1 + int(np.argmin(valid))  # the first epoch with the lowest error
    assert stop[0]["best_epoch"] == best and stop[0]["after_epoch"] == best + 2 == len(epochs) < 14
    assert f"# early stop after epoch {best + 2}" in r.stdout and f"best.ck" in r.stdout
    # The kept file is the best epoch's state: its curves end there.
    info = run("info", d / "best.ck").stdout
    assert f"{best} of 14 epochs done" in info
    # Resumed, the run stops again at once; with more patience it goes on.
    again = run("train", "--resume", d / "run.ck", "--progress=false").stdout
    assert "# early stop" in again and "test error" in again
    no_valid = [w for w in RUN if not w.startswith("--valid-samples")] + ["--valid-count=0"]
    refused = run("train", *no_valid, "--patience=2", check=False)
    assert refused.returncode == 2 and "'patience'" in refused.stderr
    refused = run("train", *RUN, f"--keep-best={d}/run.ck", f"--checkpoint={d}/run.ck", check=False)
    assert refused.returncode == 2 and "'keep-best'" in refused.stderr
    refused = run("train", *RUN, "--keep-best=/no/such/folder/b.ck", check=False)
    assert refused.returncode == 2 and "b.ck" in refused.stderr


def test_keep_best_and_patience_survive_sigint(tmp_path):
    d = tmp_path
    whole = run("train", *RUN, "--patience=2", f"--keep-best={d}/best.ck", f"--checkpoint={d}/run.ck")
    kept = export(d / "best.ck", d / "best.npz")
    # The same run, interrupted by SIGINT twice (inside the second and the fourth epochs), resumed.
    i = tmp_path / "i"
    i.mkdir()
    args = [BIN, "train", *RUN, "--patience=2", f"--keep-best={i}/best.ck", f"--checkpoint={i}/run.ck",
            f"--metrics={i}/m.jsonl", "--checkpoint-every=20"]
    for epochs_seen in (1, 3):
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 60
        while time.time() < deadline:
            n = sum(1 for line in open(i / "m.jsonl") if '"epoch"' in line) if (i / "m.jsonl").exists() else 0
            if n >= epochs_seen:
                break
            time.sleep(0.005)
        time.sleep(0.03)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        assert p.returncode in (130, 0), err  # 0: it had already finished
        args = [BIN, "train", "--resume", str(i / "run.ck"), "--progress=false"]
    last = run(*args[1:])
    # The same early stop and test error (the time differs).
    a, b = whole.stdout.splitlines()[-2:], last.stdout.splitlines()[-2:]
    assert a[0].replace(str(d), "") == b[0].replace(str(i), "") and "# early stop" in a[0]
    assert a[1].split(" (")[0] == b[1].split(" (")[0] and "test error" in a[1]
    again = export(i / "best.ck", i / "best.npz")
    for k in kept:
        if not k.startswith(("train_h", "valid_h")):
            assert np.array_equal(kept[k], again[k]), k


def test_eval_per_class_and_json(tmp_path):
    two = [w for w in RUN if not w.startswith("--epochs")] + ["--epochs=2"]
    run("train", *two, f"--checkpoint={tmp_path}/run.ck")
    text = run("eval", "--checkpoint", tmp_path / "run.ck").stdout
    j = json.loads(run("eval", "--checkpoint", tmp_path / "run.ck", "--per-class", "--json").stdout)
    assert f"test error {j['error']:g}% ({j['errors']} of {j['count']} examples)" in text
    confusion = np.array(j["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == j["count"] == 10000
    assert j["count"] - np.trace(confusion) == j["errors"]  # the predictions are the error count's
    assert [c["count"] for c in j["per_class"]] == list(confusion.sum(1))
    assert sum(c["errors"] for c in j["per_class"]) == j["errors"]
    per_class_text = run("eval", "--checkpoint", tmp_path / "run.ck", "--per-class").stdout
    assert "per class" in per_class_text and str(confusion[3, 3]) in per_class_text
    # The validation split from the saved particles, as JSON too.
    v = json.loads(run("eval", "--checkpoint", tmp_path / "run.ck", "--split", "valid", "--json").stdout)
    assert v["split"] == "valid" and v["from"] == "particles" and v["count"] == 500
    info = json.loads(run("info", tmp_path / "run.ck", "--json").stdout)
    assert info["epochs_done"] == 2 and info["tensors"]["W1"] == [784, 500] and info["config"]["alphas"] == "0.4 0.2"
    assert [c["epoch"] for c in info["curves"]] == [1, 2] and info["data"]["classes"] == 10


def test_plot_draws_curves_and_a_confusion_matrix(tmp_path):
    plot = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "plot")
    two = [w for w in RUN if not w.startswith("--epochs")] + ["--epochs=2"]
    run("train", *two, f"--checkpoint={tmp_path}/run.ck", f"--metrics={tmp_path}/m.jsonl")
    (tmp_path / "e.json").write_text(run("eval", "--checkpoint", tmp_path / "run.ck", "--per-class", "--json").stdout)
    for args, out in (([tmp_path / "m.jsonl"], "curves.png"), (["--confusion", tmp_path / "e.json"], "conf.png")):
        argv = [plot, *([args[0], tmp_path / out, *args[1:]] if args[0] == "--confusion" else [tmp_path / out, *args])]
        r = subprocess.run(list(map(str, argv)), capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([plot, str(tmp_path / "x.png"), str(tmp_path / "e.json")], capture_output=True, text=True)
    assert bad.returncode == 2 and "no epoch lines" in bad.stderr


def test_version_matches_the_citation():
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    cff = open(os.path.join(root, "CITATION.cff")).read()
    version = [l.split(":", 1)[1].strip() for l in cff.splitlines() if l.startswith("version:")][0]
    assert run("--version").stdout.strip() == run("-V").stdout.strip() == f"eqprop {version}"
    assert "10.3389/fncom.2017.00024" in cff and os.path.exists(os.path.join(root, "LICENSE"))


def test_memory_check_uses_the_cgroup_limit(tmp_path):
    big = [f"--data={DATA}", "--hidden=4000", "--epochs=1", "--max-minibatches=1", "--valid-samples=100",
           "--progress=false"]  # about 1.6 GiB of particles: over 1 GiB, under any real machine
    for version, selfline, limit_file in (
            ("v2", "0::/job/step", "job/memory.max"),
            ("v1", "4:memory:/job/step\n3:cpu:/", "memory/job/memory.limit_in_bytes")):
        root = tmp_path / version
        (root / os.path.dirname(limit_file)).mkdir(parents=True)
        (root / "self-cgroup").write_text(selfline + "\n")
        (root / limit_file).write_text(str(1 << 30) + "\n")  # the job's limit: 1 GiB
        step = root / os.path.dirname(limit_file) / "step"
        step.mkdir()
        (step / os.path.basename(limit_file)).write_text("max\n" if version == "v2" else "9223372036854771712\n")
        env = dict(os.environ, EQPROP_CGROUP_ROOT=str(root))
        r = subprocess.run([BIN, "train", *big], env=env, capture_output=True, text=True)
        assert r.returncode == 2 and f"may use 1 GiB (the cgroup limit {root}/{limit_file})" in r.stderr, r.stderr
        # Without a limit the same run starts (and stops after one minibatch).
        (root / limit_file).write_text("max\n" if version == "v2" else "9223372036854771712\n")
        r = subprocess.run([BIN, "train", *big], env=env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def write_idx(path, array):
    a = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 8, a.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in a.shape)
    path.write_bytes(header + a.tobytes())


def test_missing_data_hints_name_the_right_command(tmp_path):
    for dataset, hint in (("mnist", "tools/fetch_mnist.sh"), ("fashion-mnist", "tools/fetch_fashion_mnist.sh"),
                          ("idx", "set --data to a folder of IDX files")):
        r = run("train", f"--dataset={dataset}", f"--data={tmp_path}/none", check=False)
        assert r.returncode == 2 and "no such file" in r.stderr and hint in r.stderr, r.stderr


def test_images_declared_784x1_beside_28x28_are_refused(tmp_path):
    rng = np.random.default_rng(1)
    write_idx(tmp_path / "train-images-idx3-ubyte", rng.integers(0, 256, (100, 784, 1)))
    write_idx(tmp_path / "train-labels-idx1-ubyte", rng.integers(0, 10, 100))
    write_idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (50, 28, 28)))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 10, 50))
    for dataset, says in (("idx", "1x784x1"), ("mnist", "784x1")):
        r = run("train", f"--dataset={dataset}", f"--data={tmp_path}", "--valid-count=20", "--batch=10", check=False)
        assert r.returncode == 2 and says in r.stderr and "28" in r.stderr, r.stderr


def test_diagnostics_and_a_dead_output_unit(tmp_path):
    two = [w for w in RUN if not w.startswith("--epochs")] + ["--epochs=2"]
    r = run("train", *two, "--diagnostics", f"--metrics={tmp_path}/m.jsonl", f"--checkpoint={tmp_path}/run.ck")
    lines = [l for l in r.stdout.splitlines() if l.startswith("# epoch")]
    assert len(lines) == 2 and "layer 1 " in lines[0] and "% at 0" in lines[0] and "never active: none" in lines[0]
    m = [json.loads(l) for l in open(tmp_path / "m.jsonl") if '"epoch"' in l]
    assert [s["layer"] for s in m[0]["saturation"]] == [1, 2] and m[0]["dead_outputs"] == []
    assert all(0 <= s["at0"] <= 100 and 0 <= s["at1"] <= 100 for s in m[0]["saturation"])
    assert f"{m[1]['saturation'][0]['at0']:.1f}% at 0" in lines[1]
    # Output unit 3 silenced (a bias of -100 keeps it at 0 for every image): warned of and named
    # in the diagnostics line (with these large rates others die after it).
    import eqprop
    t = eqprop.load(tmp_path / "run.ck", data=DATA)
    b = t.biases
    b[-1][3] = -100.0
    t.biases = b
    t.save(tmp_path / "dead.ck")
    r = run("train", "--resume", tmp_path / "dead.ck", "--epochs=3", "--diagnostics", "--progress=false")
    import re
    warned = re.search(r"# warning: output units? ([0-9, ]+) (?:was|were) never active in epoch 3", r.stdout)
    listed = re.search(r"# epoch 3 diagnostics.*output units never active: ([0-9, ]+)", r.stdout)
    assert warned and listed and warned.group(1) == listed.group(1)
    assert 3 in [int(u) for u in warned.group(1).split(", ")]
