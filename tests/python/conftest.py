"""Shared fixtures of the Python test suite.

Run against the build tree:   PYTHONPATH=build-py/python /usr/bin/python3 -m pytest tests/python
or against the installed package: /usr/bin/python3 -m pytest tests/python
The CLI binary (for the CLI <-> Python tests) is $NEUNCUT_CLI, default build/neuncut.
"""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    path = Path(os.environ.get("NEUNCUT_CLI", REPO / "build" / "neuncut"))
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.skip(f"CLI binary {path} not built (set NEUNCUT_CLI)")
    return str(path)


def run_cli(cli, *args, check=True):
    """Runs the CLI; returns the CompletedProcess (text)."""
    r = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and r.returncode != 0:
        raise AssertionError(f"{cli} {' '.join(map(str, args))} failed ({r.returncode}):\n{r.stderr}")
    return r


def blobs(n=300, k=3, d=2, seed=0, spread=0.3):
    """Well-separated Gaussian blobs in directions that L2 normalization keeps apart."""
    rng = np.random.RandomState(seed)
    angles = 2 * np.pi * np.arange(k) / k
    centers = np.zeros((k, d))
    centers[:, 0], centers[:, 1] = 4 * np.cos(angles), 4 * np.sin(angles)
    y = rng.randint(0, k, size=n)
    X = centers[y] + spread * rng.randn(n, d)
    return X.astype(np.float32), y.astype(np.int32)


@pytest.fixture
def data():
    return blobs()
