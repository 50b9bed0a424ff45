"""Benchmark data: Fashion-MNIST from the Debian package, seeded subsets of it, and larger
synthetic sets made of jittered Fashion-MNIST replicas. Everything is written as .npy
(float32 features in [0, 1], int32 labels) so that every method reads the same bytes."""
import gzip
import os
import struct
import subprocess
from dataclasses import dataclass

import numpy as np

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                       "train-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
FASHION_MNIST_ROWS = 70000


class DataError(RuntimeError):
    pass


@dataclass
class DataSet:
    """One data set on disk. `cli_spec` is what the neuncut CLI gets as --data ('fashion-mnist'
    for the full packaged set, else the .npy path); peers always read `path`."""
    name: str
    path: str
    labels_path: str
    n: int
    d: int
    cli_spec: str
    description: str = ""
    image_shape: str = ""  # "28x28" for Fashion-MNIST and its derivatives: neuncut fit's --image-shape

    def neuncut_args(self):
        args = ["--data", self.cli_spec]
        if self.cli_spec != "fashion-mnist":
            args += ["--truth", self.labels_path]
        return args

    def as_dict(self):
        return dict(name=self.name, n=self.n, d=self.d, cli_spec=self.cli_spec, description=self.description,
                    image_shape=self.image_shape)


def check_fashion_mnist():
    missing = [f for f in FASHION_MNIST_FILES if not os.path.exists(os.path.join(FASHION_MNIST_DIR, f))]
    if missing:
        raise DataError(f"Fashion-MNIST not found in {FASHION_MNIST_DIR} (missing {', '.join(missing)}); "
                        "install the Debian package dataset-fashion-mnist (scripts/setup.sh does)")


def _read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte MNIST IDX file")
    nd = raw[3]
    dims = struct.unpack(">" + "I" * nd, raw[4:4 + 4 * nd])
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: {body.size} bytes of data for shape {dims}")
    return body.reshape(dims)


def load_fashion_mnist():
    """(X float32 70000 x 784 in [0, 1], y int32): train then test, as neuncut's loader."""
    check_fashion_mnist()
    p = lambda f: os.path.join(FASHION_MNIST_DIR, f)
    X = np.concatenate([_read_idx(p(FASHION_MNIST_FILES[0])), _read_idx(p(FASHION_MNIST_FILES[1]))])
    y = np.concatenate([_read_idx(p(FASHION_MNIST_FILES[2])), _read_idx(p(FASHION_MNIST_FILES[3]))])
    X = X.reshape(len(X), -1).astype(np.float32) / np.float32(255.0)
    return X, y.astype(np.int32)


def write_replicas(path, labels_path, n, X, y, seed, jitter, whole_copies=False):
    """Writes n rows to a new .npy at `path` (X's dtype and row shape) and their labels: copy 0 is X
    itself; copy r >= 1 is X in a shuffled order through jitter(block, rng), seeded by (seed, r);
    the last copy may be cut short. Written copy by copy through a memory map, so memory holds
    about two copies whatever n is. With whole_copies, the noise of a cut copy is drawn for the
    whole copy (so that a smaller n gives a prefix of a larger one). Returns the copies written."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=(n,) + X.shape[1:])
    labels = np.empty(n, dtype=np.int32)
    pos, r = 0, 0
    while pos < n:
        take = min(len(X), n - pos)
        if r == 0:
            idx, block = np.arange(take), X[:take]
        else:
            rng = np.random.default_rng([seed, r])
            idx = rng.permutation(len(X))
            if not whole_copies:
                idx = idx[:take]
            block = jitter(X[idx], rng)
            idx, block = idx[:take], block[:take]
        out[pos:pos + take] = block
        labels[pos:pos + take] = y[idx]
        pos += take
        r += 1
    out.flush()
    del out
    np.save(labels_path, labels)
    return r


class DataStore:
    """Writes and caches the data sets of one benchmark run in `workdir`."""

    def __init__(self, workdir, seed=0, jitter=0.1):
        self.workdir = workdir
        self.seed = seed
        self.jitter = jitter
        self._fm = None
        self._made = {}
        os.makedirs(workdir, exist_ok=True)

    def _fashion(self):
        if self._fm is None:
            self._fm = load_fashion_mnist()
        return self._fm

    def _write(self, name, X, y, description, cli_spec=None):
        path = os.path.join(self.workdir, f"{name}.npy")
        labels = os.path.join(self.workdir, f"{name}_labels.npy")
        np.save(path, X)
        np.save(labels, y)
        ds = DataSet(name, path, labels, int(X.shape[0]), int(X.shape[1]), cli_spec or path, description, "28x28")
        self._made[name] = ds
        return ds

    def fashion(self, n=0):
        """All of Fashion-MNIST (n 0 or >= 70,000; the CLI reads the package itself) or a seeded
        random subset of n rows (the same rows for a given seed and n)."""
        n = FASHION_MNIST_ROWS if n <= 0 or n >= FASHION_MNIST_ROWS else int(n)
        name = f"fmnist_{n}"
        if name in self._made:
            return self._made[name]
        X, y = self._fashion()
        if n == FASHION_MNIST_ROWS:
            return self._write(name, X, y, f"Fashion-MNIST, all {n:,} rows", cli_spec="fashion-mnist")
        idx = np.sort(np.random.default_rng(self.seed).choice(len(X), n, replace=False))
        return self._write(name, X[idx], y[idx], f"Fashion-MNIST, {n:,} rows drawn at random (seed {self.seed})")

    def scattering(self, ds, neuncut_cli, threads):
        """The data set of `ds`'s scattering features (what neuncut fit trains on for images), written
        once by `neuncut features`, for the methods that take features from elsewhere."""
        name = f"{ds.name}_scattering"
        if name in self._made:
            return self._made[name]
        path = os.path.join(self.workdir, f"{name}.npy")
        subprocess.run([neuncut_cli, "features", "--data", ds.cli_spec, "--image-shape", ds.image_shape, "--out",
                        path, "--threads", str(threads), "--quiet"], check=True)
        n, d = np.load(path, mmap_mode="r").shape
        out = DataSet(name, path, ds.labels_path, int(n), int(d), path,
                      f"{ds.description}: scattering features (neuncut features, order 1)")
        self._made[name] = out
        return out

    def replicated(self, n):
        """n rows (n > 70,000): copy 0 is Fashion-MNIST itself; copy r >= 1 is Fashion-MNIST in a
        shuffled order plus N(0, jitter^2) noise, clipped to [0, 1] (seeded by (seed, r)); the
        last copy may be cut short. Written copy by copy, so memory stays at about two copies,
        and a smaller size is a prefix of a larger one."""
        n = int(n)
        if n <= FASHION_MNIST_ROWS:
            return self.fashion(n)
        name = f"fmnist_jitter_{n}"
        if name in self._made:
            return self._made[name]
        X, y = self._fashion()
        path = os.path.join(self.workdir, f"{name}.npy")
        labels_path = os.path.join(self.workdir, f"{name}_labels.npy")

        def jitter(block, rng):  # a whole shuffled copy's noise, of which the first rows are used
            block = block + rng.standard_normal(block.shape, dtype=np.float32) * np.float32(self.jitter)
            return np.clip(block, 0.0, 1.0, out=block)

        r = write_replicas(path, labels_path, n, X, y, self.seed, jitter, whole_copies=True)
        ds = DataSet(name, path, labels_path, n, int(X.shape[1]), path,
                     f"{n:,} rows: Fashion-MNIST and {r - 1} jittered cop{'y' if r == 2 else 'ies'} "
                     f"(noise std {self.jitter}, seed {self.seed})", "28x28")
        self._made[name] = ds
        return ds

    def drop(self, ds):
        """Deletes a data set's files (large synthetic sets, once their size is done)."""
        for p in (ds.path, ds.labels_path):
            if p.startswith(self.workdir) and os.path.exists(p):
                os.remove(p)
        self._made.pop(ds.name, None)
