#!/usr/bin/env python3
"""Labels an HDF5 array larger than memory with Dask: NeuNcut fits on a sample of its rows and
labels every row lazily, block by block, into another HDF5 file.

    /usr/bin/python3 examples/dask_label_hdf5.py [--rows 200000] [--features 50] [--clusters 10]
        [--chunk-rows 100000] [--train-size 5000] [--epochs 10] [--hidden 64] [--dir examples/output] [--keep]

1. Writes ``ROWS x FEATURES`` float32 Gaussian blobs (and their true classes) to
   DIR/dask_input.h5 one block of CHUNK_ROWS rows at a time, never holding the array.
2. ``NeuNcut.fit`` on the dask array: only TRAIN_SIZE rows are computed (docs/python.md, "Dask
   arrays").
3. ``predict`` gives a lazy dask array; ``da.to_hdf5`` computes it block by block into
   DIR/dask_labels.h5.
4. Prints each step's time and the process's peak resident memory, and the scores of the
   labels against the true classes.

Needs python3-dask and python3-h5py (scripts/setup.sh installs both). An HDF5 file is read by
the threads of this process (h5py objects do not travel between processes); for a
distributed cluster, store the array as zarr or open the file by path in each task.
"""
import argparse
import os
import resource
import time
from pathlib import Path

import dask
import dask.array as da
import h5py
import numpy as np

import neuncut
from neuncut import NeuNcut


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def report(step, seconds):
    print(f"{step:<44} {seconds:7.1f} s   peak RSS {peak_rss_mib():7.0f} MiB", flush=True)


def write_blobs(path, rows, features, clusters, chunk_rows, seed=0):
    """Gaussian blobs around random directions, written one block at a time."""
    centers = np.random.default_rng(seed).normal(size=(clusters, features)).astype(np.float32) * 2
    with h5py.File(path, "w") as f:
        X = f.create_dataset("X", shape=(rows, features), dtype="f4", chunks=(min(rows, 8192), features))
        y = f.create_dataset("y", shape=(rows,), dtype="i4")
        for block, start in enumerate(range(0, rows, chunk_rows)):
            stop = min(rows, start + chunk_rows)
            rng = np.random.default_rng([seed, block])
            labels = rng.integers(0, clusters, size=stop - start)
            X[start:stop] = centers[labels] + rng.normal(size=(stop - start, features)).astype(np.float32)
            y[start:stop] = labels


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--features", type=int, default=50)
    ap.add_argument("--clusters", type=int, default=10)
    ap.add_argument("--chunk-rows", type=int, default=100_000, help="rows per dask block")
    # A small, fast model (these blobs are easy); NeuNcut's defaults (train_size 20000, automatic
    # epochs, 512-512 hidden) take about 10 minutes to fit on 2 busy cores.
    ap.add_argument("--train-size", type=int, default=5_000)
    ap.add_argument("--epochs", type=int, default=10, help="0: NeuNcut's automatic count")
    ap.add_argument("--hidden", type=int, nargs="*", default=[64], help="hidden layer widths")
    ap.add_argument("--dir", type=Path, default=Path(__file__).resolve().parent / "output")
    ap.add_argument("--keep", action="store_true", help="keep the two HDF5 files")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    data, out = args.dir / "dask_input.h5", args.dir / "dask_labels.h5"
    gib = args.rows * args.features * 4 / 2**30
    print(f"{args.rows:,} x {args.features} float32 ({gib:.2f} GiB), blocks of {args.chunk_rows:,} rows, "
          f"{os.cpu_count()} cores, neuncut {neuncut.__version__}, dask {dask.__version__}")

    t = time.perf_counter()
    write_blobs(data, args.rows, args.features, args.clusters, args.chunk_rows)
    report("write the input, block by block", time.perf_counter() - t)

    with h5py.File(data, "r") as f:
        X = da.from_array(f["X"], chunks=(args.chunk_rows, args.features), lock=True)
        t = time.perf_counter()
        model = NeuNcut(n_clusters=args.clusters, train_size=args.train_size, epochs=args.epochs,
                         hidden=tuple(args.hidden), random_state=0)
        model.fit(X)  # computes only the train_size rows of the subset
        report(f"fit on {model.fit_info_['train_points']:,} sampled rows", time.perf_counter() - t)

        t = time.perf_counter()
        labels = model.predict(X)  # lazy: nothing is computed yet
        out.unlink(missing_ok=True)
        da.to_hdf5(out, "/labels", labels)  # computed block by block, each block written as it is done
        report("label every row into HDF5", time.perf_counter() - t)

    with h5py.File(out, "r") as f, h5py.File(data, "r") as g:
        scores = neuncut.scores(g["y"][:], f["labels"][:])  # 2 x 4 bytes a row
    print("scores against the true classes:", {k: round(v, 4) for k, v in scores.items()})
    if not args.keep:
        data.unlink()
        out.unlink()


if __name__ == "__main__":
    main()
