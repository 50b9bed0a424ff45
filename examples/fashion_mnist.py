#!/usr/bin/env python3
"""NeuNcut on Fashion-MNIST through Python: cluster grid, confusion matrix, training curves,
and (with --cli) the same run through the CLI to show that both give identical labels.

    /usr/bin/python3 examples/fashion_mnist.py [--out DIR] [--train-size N] [--epochs E]
                                               [--threads T] [--cli build/neuncut]

Needs the Debian package dataset-fashion-mnist. Defaults (train on 5,000 points, 15 epochs,
label all 70,000) run in about a minute on two cores. Writes fmnist_grid.png,
fmnist_confusion.png and fmnist_curves.png.
"""
import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import neuncut
from neuncut import NeuNcut, plot

CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "output")
    ap.add_argument("--train-size", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cli", help="path of the neuncut binary: also run the CLI and compare labels")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    X, y = neuncut.load_dataset("fashion-mnist")
    print(f"loaded {X.shape[0]} x {X.shape[1]} in {time.time() - t0:.1f}s")
    model = NeuNcut(n_clusters=10, train_size=args.train_size, epochs=args.epochs, threads=args.threads,
                    random_state=args.seed, verbose=True)
    t0 = time.time()
    model.fit(X.reshape(-1, 28, 28))  # images: clustered by their scattering transform, as the CLI does
    s = neuncut.scores(y, model.labels_)
    print(f"python: fit + label 70,000 in {time.time() - t0:.1f}s: ACC {s['acc']:.4f} NMI {s['nmi']:.4f} "
          f"ARI {s['ari']:.4f}, clusters used {len(np.unique(model.labels_))}")
    plot.cluster_grid(X, model.labels_, n_per_cluster=12, image_shape=(28, 28),
                      title="Fashion-MNIST: 12 random images per NeuNcut cluster", path=args.out / "fmnist_grid.png",
                      dpi=120)
    plot.confusion_matrix(y, model.labels_, class_names=CLASSES, path=args.out / "fmnist_confusion.png")
    plot.training_curves(model, title="NeuNcut on Fashion-MNIST", path=args.out / "fmnist_curves.png")

    if args.cli:
        with tempfile.TemporaryDirectory() as tmp:
            labels = Path(tmp) / "labels.npy"
            cmd = [args.cli, "fit", "--data", "fashion-mnist", "--k", "10", "--train-size", str(args.train_size),
                   "--epochs", str(args.epochs), "--threads", str(args.threads), "--seed", str(args.seed),
                   "--labels-out", str(labels), "--json", "-q"]
            r = subprocess.run(cmd, capture_output=True, text=True, check=True)
            summary = json.loads(r.stdout.strip().splitlines()[-1])
            cli_labels = np.load(labels)
            same = np.array_equal(cli_labels, model.labels_)
            print(f"cli:    ACC {summary['acc']:.4f} NMI {summary['nmi']:.4f} ARI {summary['ari']:.4f}; "
                  f"labels identical to Python's: {same} ({int((cli_labels != model.labels_).sum())} of "
                  f"{len(cli_labels)} differ)")
            if not same:
                raise SystemExit("CLI and Python labels differ")
    print("plots written to", args.out)


if __name__ == "__main__":
    main()
