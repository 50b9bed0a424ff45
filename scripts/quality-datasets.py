#!/usr/bin/python3
"""Writes neuncut's quality suite (issue 13) as .npy files: real labelled data sets that Debian
packages ship (nothing is downloaded) plus synthetic sets from `neuncut generate`.

For each set NAME the output folder gets NAME.npy (float32 features, rows = points) and
NAME_y.npy (int64 labels 0..k-1), and the folder gets sets.json (one record per set: rows,
features, k, kind, image shape, source, class imbalance) and a README listing them.

Run with Debian's /usr/bin/python3 after `scripts/setup.sh --with-quality` (which installs the
source packages); this script installs nothing. Usage:
    scripts/quality-datasets.py [--out data/quality] [--neuncut build/neuncut] [--sets a,b,...]

Conventions, the same for every set so that every method reads the same bytes:
- rows with a missing value are dropped; categorical columns that are not the label (speaker id
  in Vowel) are dropped; boolean/integer columns become float32;
- image pixels are scaled to [0, 1] (what `neuncut features` and `fit --image-shape` expect);
  tabular features are kept in their original units: scaling is part of what is being measured
  (the issue's silent failure on Segment is a scaling failure);
- the rows are shuffled with one fixed permutation (numpy seed 0), because several sources list
  the points sorted by class and a method must not be able to profit from (or trip on) that;
- labels are renumbered 0..k-1 in order of the source's class list, empty classes removed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np

MLBENCH_DIR = "/usr/lib/R/site-library/mlbench/data"     # r-cran-mlbench
OPENCV_DATA_DIR = "/usr/share/doc/opencv-doc/examples/data"  # opencv-doc
WEKA_DIR = "/usr/share/doc/weka/examples"                  # weka

SETUP_HINT = "install it with `scripts/setup.sh --with-quality` (as root)"


class SourceMissing(RuntimeError):
    pass


def _need(path, package):
    if not os.path.exists(path):
        raise SourceMissing(f"{path} not found: it comes from the Debian package {package}; {SETUP_HINT}")
    return path


def _codes(labels):
    """Labels (any hashable values, or a pandas Categorical) -> int64 0..k-1, empty classes removed,
    in the order of the source's categories when it has one."""
    import pandas as pd
    cat = labels if isinstance(getattr(labels, "dtype", None), pd.CategoricalDtype) else pd.Categorical(labels)
    cat = pd.Categorical(cat).remove_unused_categories()
    return np.asarray(cat.codes, dtype=np.int64), [str(c) for c in cat.categories]


# ---------------------------------------------------------------- sources

def _sklearn(loader_name):
    from sklearn import datasets
    b = getattr(datasets, loader_name)()
    return np.asarray(b.data, dtype=np.float64), np.asarray(b.target, dtype=np.int64)


def load_digits8():
    X, y = _sklearn("load_digits")
    return X / 16.0, y  # pixel intensities 0..16


def load_digits20():
    """OpenCV's samples/data/digits.png: 2000 x 1000 grey image, 50 rows x 100 columns of 20 x 20
    cells; every 5 rows of cells (500 digits) are one digit class, 0 to 9."""
    import matplotlib.image as mpimg
    img = mpimg.imread(_need(os.path.join(OPENCV_DATA_DIR, "digits.png"), "opencv-doc"))
    if img.ndim == 3:
        img = img[..., 0]
    img = np.asarray(img, dtype=np.float64)
    if img.max() > 1.0:
        img = img / 255.0
    if img.shape != (1000, 2000):
        raise RuntimeError(f"digits.png: expected 1000 x 2000 pixels, got {img.shape}")
    cells = img.reshape(50, 20, 100, 20).transpose(0, 2, 1, 3).reshape(5000, 400)
    y = np.repeat(np.arange(10, dtype=np.int64), 500)
    return cells, y


def _mlbench(name, label_col, drop=()):
    import rdata
    path = _need(os.path.join(MLBENCH_DIR, f"{name}.rda"), "r-cran-mlbench")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unknown encoding. Assumed ASCII." for every file
        df = rdata.conversion.convert(rdata.parser.parse_file(path))[name]
    df = df.drop(columns=list(drop)).dropna()
    y, _ = _codes(df[label_col])
    feats = df.drop(columns=[label_col])
    bad = [c for c in feats.columns if not (np.issubdtype(feats[c].dtype, np.number) or feats[c].dtype == bool)]
    if bad:
        raise RuntimeError(f"{name}: non-numeric feature columns {bad}")
    return feats.to_numpy(dtype=np.float64), y


def _weka_arff(files, label_col):
    from scipy.io import arff
    import pandas as pd
    frames = []
    for f in files:
        data, _ = arff.loadarff(_need(os.path.join(WEKA_DIR, f), "weka"))
        frames.append(pd.DataFrame(data))
    df = pd.concat(frames, ignore_index=True).dropna()
    labels = df[label_col].map(lambda v: v.decode() if isinstance(v, bytes) else v)
    y, _ = _codes(pd.Categorical(labels, categories=sorted(set(labels))))
    return df.drop(columns=[label_col]).to_numpy(dtype=np.float64), y


def load_segment():
    # UCI Image Segmentation, the 210 + 2100 rows of Weka's two files = the full 2,310.
    return _weka_arff(["segment-challenge.arff", "segment-test.arff"], "class")


# name -> (loader, kind, image shape, source, note)
REAL_SETS = {
    "digits8": (load_digits8, "image", "8x8", "python3-sklearn (load_digits)",
                "handwritten digits, 8 x 8 pixels, intensities 0-16 scaled to [0, 1]"),
    "digits20": (load_digits20, "image", "20x20", "opencv-doc (examples/data/digits.png)",
                 "handwritten digits, 20 x 20 pixels cut from one 2000 x 1000 sheet"),
    "iris": (lambda: _sklearn("load_iris"), "tabular", "", "python3-sklearn (load_iris)", "4 measurements"),
    "wine": (lambda: _sklearn("load_wine"), "tabular", "", "python3-sklearn (load_wine)",
             "13 chemical measures, scales from 0.1 to 1,680"),
    "breast_cancer": (lambda: _sklearn("load_breast_cancer"), "tabular", "", "python3-sklearn (load_breast_cancer)",
                      "30 cell-nucleus features, scales from 0.001 to 4,250"),
    "segment": (load_segment, "tabular", "", "weka (segment-challenge.arff + segment-test.arff)",
                "UCI Image Segmentation: 19 region features of very different scales, one constant "
                "(region-pixel-count = 9)"),
    "letter": (lambda: _mlbench("LetterRecognition", "lettr"), "tabular", "", "r-cran-mlbench (LetterRecognition)",
               "16 integer letter-shape features 0-15, 26 capital letters"),
    "shuttle": (lambda: _mlbench("Shuttle", "Class"), "tabular", "", "r-cran-mlbench (Shuttle)",
                "9 sensor features; 78% of rows in one class, the smallest class has 10 rows"),
    "satellite": (lambda: _mlbench("Satellite", "classes"), "tabular", "", "r-cran-mlbench (Satellite)",
                  "Landsat 3 x 3 neighbourhoods, 4 bands each = 36 features"),
    "vehicle": (lambda: _mlbench("Vehicle", "Class"), "tabular", "", "r-cran-mlbench (Vehicle)",
                "18 silhouette features of 4 vehicle types"),
    "vowel": (lambda: _mlbench("Vowel", "Class", drop=("V1",)), "tabular", "", "r-cran-mlbench (Vowel)",
              "9 numeric features V2-V10 (V1, the speaker id, dropped), 11 vowels"),
    "glass": (lambda: _mlbench("Glass", "Type"), "tabular", "", "r-cran-mlbench (Glass)",
              "9 oxide contents; 6 glass types of 9 to 76 rows"),
    "pima": (lambda: _mlbench("PimaIndiansDiabetes", "diabetes"), "tabular", "", "r-cran-mlbench (PimaIndiansDiabetes)",
             "8 clinical features (zeros stand for missing values in the source)"),
}

# name -> `neuncut generate` arguments (seed 0 always)
SYNTHETIC_SETS = {
    "blobs50": (["--kind", "blobs", "--n-samples", "20000", "--clusters", "50", "--dim", "16"],
                "50 Gaussian blobs in 16-D (neuncut generate)"),
    "imbalanced": (["--kind", "imbalanced-blobs", "--n-samples", "10000", "--clusters", "8", "--dim", "10",
                    "--imbalance", "20"], "8 blobs, largest / smallest = 20 (neuncut generate)"),
    "moons": (["--kind", "moons", "--n-samples", "5000", "--noise", "0.08"], "two moons (neuncut generate)"),
    "circles": (["--kind", "circles", "--n-samples", "5000", "--noise", "0.05", "--factor", "0.5"],
                "two concentric circles (neuncut generate)"),
}


def load_synthetic(name, neuncut):
    args, _ = SYNTHETIC_SETS[name]
    if not neuncut or not os.path.exists(neuncut):
        raise SourceMissing(f"the neuncut CLI ({neuncut}) is needed for synthetic sets; build it first "
                            "(scripts/build.sh) or pass --neuncut")
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        subprocess.run([neuncut, "generate", *args, "--seed", "0", "--out", xp, "--labels-out", yp],
                       check=True, stdout=subprocess.DEVNULL)
        return np.load(xp).astype(np.float64), np.load(yp).astype(np.int64)


# ---------------------------------------------------------------- writing

def _save_atomic(path, array):
    tmp = path + ".tmp.npy"
    np.save(tmp, array)
    os.replace(tmp, path)


def describe(name, X, y, kind, image_shape, source, note):
    counts = np.bincount(y)
    return dict(name=name, n=int(X.shape[0]), d=int(X.shape[1]), k=int(len(counts)), kind=kind,
                image_shape=image_shape, source=source, note=note,
                imbalance=round(float(counts.max() / counts.min()), 2),
                smallest_class=int(counts.min()), largest_class=int(counts.max()),
                constant_features=int(np.sum(np.ptp(X, axis=0) == 0)),
                features=f"{name}.npy", labels=f"{name}_y.npy")


def write_set(out, name, X, y, meta):
    if X.ndim != 2 or len(X) != len(y):
        raise RuntimeError(f"{name}: features {X.shape} and labels {y.shape} do not match")
    if not np.all(np.isfinite(X)):
        raise RuntimeError(f"{name}: non-finite feature values")
    perm = np.random.RandomState(0).permutation(len(y))
    X = np.ascontiguousarray(X[perm], dtype=np.float32)
    y = np.ascontiguousarray(y[perm], dtype=np.int64)
    _save_atomic(os.path.join(out, f"{name}.npy"), X)
    _save_atomic(os.path.join(out, f"{name}_y.npy"), y)
    return describe(name, X, y, *meta)


def readme(records):
    lines = ["neuncut quality suite (written by scripts/quality-datasets.py; see docs/quality.md)",
             "", "Each set NAME: NAME.npy = float32 features (rows = points), NAME_y.npy = int64 labels 0..k-1.",
             "Rows shuffled with numpy RandomState(0). Image pixels in [0, 1]; tabular features in source units.",
             "imbalance = largest class / smallest class. sets.json holds the same records.", "",
             f"{'name':<14}{'rows':>7}{'feat':>6}{'k':>4}  {'kind':<10}{'image':<7}{'imbal':>7}  source"]
    for r in records:
        lines.append(f"{r['name']:<14}{r['n']:>7}{r['d']:>6}{r['k']:>4}  {r['kind']:<10}{r['image_shape'] or '-':<7}"
                     f"{r['imbalance']:>7}  {r['source']}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="data/quality", help="output folder (default data/quality)")
    ap.add_argument("--neuncut", default="build/neuncut", help="neuncut CLI for the synthetic sets")
    ap.add_argument("--sets", default="", help="comma-separated subset of: " +
                    ", ".join([*REAL_SETS, *SYNTHETIC_SETS]))
    ap.add_argument("--list", action="store_true", help="list the set names and exit")
    a = ap.parse_args()
    every = [*REAL_SETS, *SYNTHETIC_SETS]
    if a.list:
        print("\n".join(every))
        return 0
    wanted = [s for s in a.sets.split(",") if s] or every
    unknown = [s for s in wanted if s not in every]
    if unknown:
        print(f"quality-datasets: unknown set(s) {', '.join(unknown)}; known: {', '.join(every)}", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    manifest_path = os.path.join(a.out, "sets.json")
    records = {}
    if os.path.exists(manifest_path):  # keep records of sets written by an earlier partial run
        with open(manifest_path) as f:
            records = {r["name"]: r for r in json.load(f)["sets"]}
    failed = []
    for name in wanted:
        try:
            if name in REAL_SETS:
                loader, kind, shape, source, note = REAL_SETS[name]
                X, y = loader()
            else:
                X, y = load_synthetic(name, a.neuncut)
                kind, shape, source, note = "synthetic", "", "neuncut generate", SYNTHETIC_SETS[name][1]
            records[name] = write_set(a.out, name, X, y, (kind, shape, source, note))
            r = records[name]
            print(f"{name}: {r['n']} x {r['d']}, k = {r['k']}, imbalance {r['imbalance']}")
        except (SourceMissing, RuntimeError, OSError, subprocess.CalledProcessError) as e:
            failed.append(name)
            print(f"quality-datasets: {name}: {e}", file=sys.stderr)
    ordered = [records[n] for n in every if n in records]
    tmp = manifest_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"schema": 1, "sets": ordered}, f, indent=1)
    os.replace(tmp, manifest_path)
    with open(os.path.join(a.out, "README"), "w") as f:
        f.write(readme(ordered))
    if failed:
        print(f"quality-datasets: {len(failed)} set(s) not written: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
