"""ONNX export (docs/onnx.md): the file passes onnx.checker and, run in OpenCV's DNN module (a
runtime that shares no code with neuncut or with onnx's reference implementation), gives
`neuncut predict`'s labels and its memberships within PROB_ATOL.

The tolerance: both sides compute the same fp32 operations in different orders (OpenCV's
GEMM against oneDNN's or Eigen's), so each dot product of length n differs by rounding only,
|error| <= n u sum_i |w_i a_i| with u = 2^-24 (the textbook bound; in practice about sqrt(n) u
times that sum). For the networks here (n <= 400, |logits| of order 10) the bound on a logit
is ~1e-4, and softmax changes a probability by at most half the largest logit change.
PROB_ATOL = 1e-4 therefore holds with margin in the typical case while a wrong operator (a
missing ReLU, an unnormalized row, a transposed weight) moves probabilities by far more. A
label may legitimately flip only where the top two probabilities are within 2 * PROB_ATOL.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import neuncut
from neuncut import NeuNcut

from conftest import REPO, blobs, run_cli

# In CI (CI=true) the runtimes are installed by scripts/setup.sh; a missing one is a failure there.
_REQUIRED = os.environ.get("CI") == "true"


def _import_or_skip(name, package):
    try:
        return __import__(name)
    except ImportError:
        if _REQUIRED:
            raise
        pytest.skip(f"{name} not importable (Debian: {package}; scripts/setup.sh installs it)")


PROB_ATOL = 1e-4


@pytest.fixture(scope="module")
def onnx():
    return _import_or_skip("onnx", "python3-onnx")


@pytest.fixture(scope="module")
def cv2():
    return _import_or_skip("cv2", "python3-opencv")


def run_opencv(cv2, path, X):
    """(probabilities, labels) of the ONNX file at `path` for rows X, run by OpenCV's DNN module."""
    net = cv2.dnn.readNetFromONNX(str(path))
    net.setInput(np.ascontiguousarray(X, dtype=np.float32))
    proba, labels = net.forward(["probabilities", "labels"])
    return np.asarray(proba).reshape(X.shape[0], -1), np.asarray(labels).reshape(-1).astype(np.int64)


def compare(proba_cli, labels_cli, proba_onnx, labels_onnx):
    """Asserts the agreement the module docstring states; returns (labels equal, max |dp|)."""
    assert proba_onnx.shape == proba_cli.shape
    diff = float(np.max(np.abs(proba_onnx - proba_cli)))
    assert diff <= PROB_ATOL, f"max |p_onnx - p_cli| = {diff:.3g} > {PROB_ATOL}"
    top2 = np.sort(proba_cli, axis=1)[:, -2:]
    near_tie = (top2[:, 1] - top2[:, 0]) <= 2 * PROB_ATOL
    differ = labels_onnx != labels_cli
    assert not np.any(differ & ~near_tie), f"labels differ on rows {np.flatnonzero(differ & ~near_tie)[:10]}"
    # OpenCV's argmax agrees with its own probabilities (the graph's labels output is wired right).
    np.testing.assert_array_equal(labels_onnx, np.argmax(proba_onnx, axis=1))
    print(f"ONNX vs CLI: {int(np.sum(~differ))}/{len(labels_cli)} labels equal, max |dp| {diff:.3g}")
    return int(np.sum(~differ)), diff


# Each preprocessing path of the graph: standardize without L2, centre with L2, none with L2.
PREPROCESSING = [("standardize", "none"), ("center", "l2"), ("none", "l2")]


@pytest.mark.parametrize("scaling,normalize", PREPROCESSING)
def test_generated_data_matches_cli(cli, tmp_path, onnx, cv2, scaling, normalize):
    data, model, out = tmp_path / "x.npy", tmp_path / "m.nnc", tmp_path / "m.onnx"
    run_cli(cli, "generate", "--kind", "blobs", "-n", 3000, "--clusters", 5, "--dim", 8, "--noise", 2.5,
            "--seed", 3, "--out", data)
    run_cli(cli, "fit", "--data", data, "--k", 5, "--epochs", 8, "--hidden", "64,32", "--train-size", 1500,
            "--scaling", scaling, "--normalize", normalize, "--seed", 1, "--threads", 2, "--model", model, "-q")
    X = np.load(data)
    X[7] = 0.0  # an all-zero row: L2 normalization leaves it at zero on both sides
    X[11] *= 1e4  # a large row: normalization must divide by its norm, not saturate
    np.save(data, X)
    run_cli(cli, "export", "--model", model, "--out", out, "--quiet")
    onnx.checker.check_model(onnx.load(str(out)))
    labels, proba = tmp_path / "y.npy", tmp_path / "p.npy"
    run_cli(cli, "predict", "--model", model, "--data", data, "--labels-out", labels, "--proba-out", proba, "-q")
    equal, _ = compare(np.load(proba), np.load(labels), *run_opencv(cv2, out, X))
    assert equal >= len(X) - 3  # near-ties only, and few of them


def test_fashion_mnist_image_model_matches_cli(cli, tmp_path, onnx, cv2):
    """An image model: the ONNX graph takes the scattering features (the documented pre-step)."""
    try:
        X, y = neuncut.load_dataset("fashion-mnist")
    except (ValueError, OSError) as e:
        if _REQUIRED:
            raise
        pytest.skip(f"Fashion-MNIST not installed (Debian: dataset-fashion-mnist): {e}")
    images = X[:4000].reshape(-1, 28, 28)
    data, model, out = tmp_path / "fm.npy", tmp_path / "fm.nnc", tmp_path / "fm.onnx"
    np.save(data, images)  # a 3-D .npy: the CLI takes the image shape from it
    run_cli(cli, "fit", "--data", data, "--k", 10, "--epochs", 3, "--hidden", "64", "--train-size", 2000,
            "--seed", 0, "--threads", 2, "--model", model, "-q")
    run_cli(cli, "export", "--model", model, "--out", out, "--quiet")
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["neuncut.input"] == "scattering_features"
    pre = neuncut.onnx_export.scattering_pre_step(model)
    assert meta["neuncut.scattering"] == (f"height=28,width=28,order={pre['order']},scales={pre['scales']},"
                                         f"angles={pre['angles']}")
    features = tmp_path / "scat.npy"
    run_cli(cli, "features", "--data", data, "--out", features, "--scattering-order", pre["order"],
            "--scattering-scales", pre["scales"], "--scattering-angles", pre["angles"], "-q")
    F = np.load(features)
    # The Python pre-step computes the same features as the CLI's.
    np.testing.assert_array_equal(neuncut.scattering(images[:50], **pre), F[:50])
    labels, proba = tmp_path / "y.npy", tmp_path / "p.npy"
    run_cli(cli, "predict", "--model", model, "--data", data, "--labels-out", labels, "--proba-out", proba, "-q")
    equal, _ = compare(np.load(proba), np.load(labels), *run_opencv(cv2, out, F))
    assert equal >= len(F) - 10


def test_python_to_onnx_writes_the_cli_file(cli, tmp_path, onnx):
    X, _ = blobs(n=400, k=3, seed=2)
    est = NeuNcut(n_clusters=3, epochs=5, hidden=(16,), random_state=0, threads=2).fit(X)
    model, from_cli, from_py = tmp_path / "m.nnc", tmp_path / "cli.onnx", tmp_path / "py.onnx"
    est.save(model)
    assert est.to_onnx(from_py) is est
    run_cli(cli, "export", "--model", model, "--out", from_cli, "--quiet")
    assert from_py.read_bytes() == from_cli.read_bytes()
    proto = onnx.load(str(from_py))
    assert [i.name for i in proto.graph.input] == ["X"]
    assert {p.key: p.value for p in proto.metadata_props}["neuncut.version"] == neuncut.__version__


def test_unfitted_estimator_is_refused(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NeuNcut().to_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def _kmeans_model(cli, tmp_path):
    X, _ = blobs(n=100, seed=0)
    data, model = tmp_path / "x.npy", tmp_path / "km.nnc"
    np.save(data, X)
    run_cli(cli, "kmeans", "--data", data, "--k", 3, "--model", model, "-q")
    return model


def test_export_refuses_bad_inputs_and_writes_nothing(cli, tmp_path):
    out = tmp_path / "m.onnx"
    r = run_cli(cli, "export", "--model", _kmeans_model(cli, tmp_path), "--out", out, check=False)
    assert r.returncode == 2 and "supports NeuNcut models" in r.stderr and "kmeans" in r.stderr
    junk = tmp_path / "junk.nnc"
    junk.write_bytes(b"not a model")
    r = run_cli(cli, "export", "--model", junk, "--out", out, check=False)
    assert r.returncode == 2 and "not a neuncut model file" in r.stderr
    r = run_cli(cli, "export", "--model", tmp_path / "missing.nnc", "--out", out, check=False)
    assert r.returncode != 0 and "missing.nnc" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.nnc", "km.nnc", "x.npy"]


@pytest.fixture
def neuncut_model(cli, tmp_path):
    X, _ = blobs(n=300, seed=0)
    data, model = tmp_path / "x.npy", tmp_path / "m.nnc"
    np.save(data, X)
    run_cli(cli, "fit", "--data", data, "--k", 3, "--epochs", 2, "--hidden", "8", "--model", model, "-q")
    return model


def test_export_without_onnx_fails_clearly(cli, tmp_path, neuncut_model):
    """An interpreter whose `import onnx` fails: a message naming python3-onnx, exit 1, no file."""
    fake = tmp_path / "fake"
    (fake / "onnx").mkdir(parents=True)
    (fake / "onnx" / "__init__.py").write_text("raise ImportError('simulated: no onnx here')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")]),
               NEUNCUT_PYTHON=sys.executable)
    out = tmp_path / "m.onnx"
    r = subprocess.run([cli, "export", "--model", str(neuncut_model), "--out", str(out)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 1, r.stderr
    assert "python3-onnx" in r.stderr and "simulated" in r.stderr
    assert not out.exists() and not list(tmp_path.glob("m.onnx*"))


def test_export_with_a_missing_interpreter_fails_clearly(cli, tmp_path, neuncut_model):
    out = tmp_path / "m.onnx"
    r = run_cli(cli, "export", "--model", neuncut_model, "--out", out, "--python", tmp_path / "no-python", check=False)
    assert r.returncode == 1
    assert "cannot run the Python interpreter" in r.stderr and "NEUNCUT_PYTHON" in r.stderr
    assert not list(tmp_path.glob("m.onnx*"))


def test_export_refuses_a_directory_as_output(cli, tmp_path, neuncut_model):
    (tmp_path / "out.onnx").mkdir()
    r = run_cli(cli, "export", "--model", neuncut_model, "--out", tmp_path / "out.onnx", check=False)
    assert r.returncode != 0 and "out.onnx" in r.stderr
    assert (tmp_path / "out.onnx").is_dir() and not any((tmp_path / "out.onnx").iterdir())


def test_export_ended_by_a_signal_leaves_no_exporter_and_no_file(cli, tmp_path, neuncut_model):
    """SIGTERM to `neuncut export` ends it with 143; the exporter it started must not live on
    and write the file after the command reported failure (cmd_export.cpp: PR_SET_PDEATHSIG)."""
    import signal
    import time

    pidfile, out = tmp_path / "child.pid", tmp_path / "m.onnx"
    fake = tmp_path / "slow-python"
    # Stands in for a slow exporter: records its pid, waits, then would write the output.
    fake.write_text(f"#!/bin/sh\necho $$ > '{pidfile}'\nsleep 20\ntouch '{out}'\n")
    fake.chmod(0o755)
    p = subprocess.Popen([cli, "export", "--model", str(neuncut_model), "--out", str(out), "--python", str(fake)],
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline, "the exporter did not start"
        time.sleep(0.05)
    child = int(pidfile.read_text())
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 143
    while True:  # the child gets SIGTERM when its parent dies
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    break  # dead, waiting to be reaped (a container's init may not reap it at once)
        except FileNotFoundError:
            break
        assert time.monotonic() < deadline, f"exporter {child} outlived neuncut export"
        time.sleep(0.05)
    assert not out.exists()
