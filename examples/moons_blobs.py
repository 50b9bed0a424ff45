#!/usr/bin/env python3
"""NeuNcut on generated 2-D data: decision regions, training curves, confusion matrices.

    /usr/bin/python3 examples/moons_blobs.py [OUTPUT_DIR]      (default: examples/output)

Writes moons_regions.png, moons_curves.png, moons_confusion.png, blobs_regions.png,
blobs_confusion.png and blobs_kmeans_regions.png, and prints ACC/NMI/ARI per data set.
Runs in about ten seconds on two cores.
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs, make_moons

import neuncut
from neuncut import KMeans, NeuNcut, plot


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    # Moons: two interleaving half circles, with the defaults: 2-D data is standardized (not
    # L2-normalized), and the spectral warm start puts the network in the right basin (from a
    # random network, training keeps a straight cut through both moons; docs/defaults.md).
    X, y = make_moons(n_samples=1500, noise=0.06, random_state=0)
    X = X.astype(np.float32)
    moons = NeuNcut(n_clusters=2, random_state=0).fit(X)
    print("moons  NeuNcut", {k: round(v, 3) for k, v in neuncut.scores(y, moons.labels_).items()})
    plot.scatter(X, moons.labels_, model=moons, title="NeuNcut on two moons", path=out / "moons_regions.png")
    plot.training_curves(moons, title="NeuNcut on two moons", path=out / "moons_curves.png")
    plot.confusion_matrix(y, moons.labels_, path=out / "moons_confusion.png")

    # Blobs: five Gaussian clusters; NeuNcut with its default recipe and k-means beside it.
    X, y = make_blobs(n_samples=2000, centers=5, cluster_std=1.0, center_box=(-10, 10), random_state=3)
    X = X.astype(np.float32)
    blobs = NeuNcut(n_clusters=5, random_state=0).fit(X)  # defaults: 2-D data is standardized, not L2-normalized
    print("blobs  NeuNcut", {k: round(v, 3) for k, v in neuncut.scores(y, blobs.labels_).items()})
    plot.scatter(X, blobs.labels_, model=blobs, title="NeuNcut on five blobs", path=out / "blobs_regions.png")
    plot.confusion_matrix(y, blobs.labels_, path=out / "blobs_confusion.png")
    km = KMeans(n_clusters=5, normalize=False).fit(X)
    print("blobs  k-means", {k: round(v, 3) for k, v in neuncut.scores(y, km.labels_).items()})
    plot.scatter(X, km.labels_, model=km, title="k-means on five blobs", path=out / "blobs_kmeans_regions.png")
    print("plots written to", out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "output")
