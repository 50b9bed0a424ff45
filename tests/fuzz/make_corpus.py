#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus: a few small valid files and edge cases per reader.

Usage: PYTHONPATH=<build>/python python3 tests/fuzz/make_corpus.py [tests/fuzz/corpus]
The model seeds need the neuncut Python package (tiny NeuNcut, SpectralNet and k-means fits);
the others only numpy. The files are committed; rerun this only to change the seeds.
Regression inputs (a fuzzer's finding) go next to them as regression-*.
"""
import gzip
import io
import os
import struct
import sys

import numpy as np

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")


def put(kind, name, data):
    os.makedirs(os.path.join(root, kind), exist_ok=True)
    with open(os.path.join(root, kind, name), "wb") as f:
        f.write(data)


def npy(array, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, array)
    else:
        np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()


put("npy", "f4-2x3.npy", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
put("npy", "f8-v2-3x2.npy", npy(np.array([[1.5, -2], [np.nan, np.inf], [0, 1e300]]), version=(2, 0)))
put("npy", "i4-labels.npy", npy(np.array([0, 1, 2, -1], dtype="<i4")))
put("npy", "u8-labels-v3.npy", npy(np.array([0, 2**40], dtype="<u8"), version=(3, 0)))
put("npy", "u1-images-2x2x3.npy", npy(np.arange(12, dtype="u1").reshape(2, 2, 3)))
put("npy", "bool-column.npy", npy(np.array([[True], [False]])))
put("npy", "i2-empty-0x3.npy", npy(np.zeros((0, 3), dtype="<i2")))
put("npy", "f4-fortran-1x4.npy", npy(np.asfortranarray(np.ones((1, 4), dtype="<f4"))))

put("csv", "plain.csv", b"1,2,3\n4,5,6\n")
put("csv", "header-label.csv", b"label,x,y\n0,1.5,-2\n1,3e2,+4\n")
put("csv", "blank-lines-crlf.csv", b"\r\n1;2\r\n\r\n3;4\r\n")
put("csv", "spaces.txt", b"  1 2\t3\n4   5 6  \n")
put("csv", "special-values.csv", b"nan,inf,-inf\n\"1\",2,\"3\"\n")
put("csv", "ragged.csv", b"1,2\n3\n")
put("csv", "labels.csv", b"0\n1\n2\n")


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


images = idx(0x08, [2, 2, 2], bytes(range(8)))
put("idx", "u8-images-2x2x2.idx", images)
put("idx", "u8-images-2x2x2.idx.gz", gzip.compress(images, mtime=0))
put("idx", "u8-labels.idx", idx(0x08, [3], bytes([0, 1, 9])))
put("idx", "i32-labels.idx", idx(0x0C, [2], struct.pack(">ii", -1, 7)))
put("idx", "f32-2x2.idx", idx(0x0D, [2, 2], struct.pack(">4f", 1, -2, 0.5, 3)))
put("idx", "f64-1x1.idx", idx(0x0E, [1, 1], struct.pack(">d", 2.5)))
put("idx", "i16-sbyte-empty.idx", idx(0x0B, [0, 5], b""))

try:
    import neuncut
except ImportError:
    print("make_corpus.py: neuncut not importable; model seeds not written", file=sys.stderr)
    sys.exit(0)

import tempfile

rng = np.random.default_rng(0)
x = np.vstack([rng.normal(c, 0.1, size=(20, 4)) for c in (0, 3)]).astype(np.float32)
imgs = rng.random((24, 8, 8)).astype(np.float32)
models = {
    "kmeans.nnc": neuncut.KMeans(n_clusters=2, random_state=0).fit(x),
    "kmeans-normalize.nnc": neuncut.KMeans(n_clusters=2, random_state=0, normalize=True).fit(x),
    "neuncut-linear.nnc": neuncut.NeuNcut(n_clusters=2, hidden="none", epochs=1, random_state=0).fit(x),
    "neuncut-hidden.nnc": neuncut.NeuNcut(n_clusters=2, hidden="3", epochs=1, random_state=0, scaling="standardize").fit(x),
    "neuncut-scattering.nnc": neuncut.NeuNcut(n_clusters=2, hidden="none", epochs=1, random_state=0,
                                              features="scattering", scattering_scales=1,
                                              scattering_angles=2).fit(imgs),
    "spectralnet.nnc": neuncut.SpectralNet(n_clusters=2, hidden="3", epochs=1, random_state=0).fit(x),
}
with tempfile.TemporaryDirectory() as tmp:
    for name, model in models.items():
        path = os.path.join(tmp, name)
        model.save(path)
        with open(path, "rb") as f:
            put("model", name, f.read())
