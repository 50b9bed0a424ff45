"""neuncut: spectral clustering by Neural Normalized Cut, as scikit-learn estimators.

    from neuncut import NeuNcut
    model = NeuNcut(n_clusters=10).fit(X)      # X: (n_samples, n_features)
    labels = model.predict(Y)                  # any rows, seen or not
    model.save("model.nnc")                    # the CLI's model format
    same = neuncut.load("model.nnc")

Estimators: NeuNcut, SpectralNet, KMeans, SpectralClustering (classic Ncut).
Plots: neuncut.plot (matplotlib). Data: neuncut.load_dataset("fashion-mnist").
"""
import numpy as np

from . import _core
from .estimators import CollapseWarning, KMeans, NeuNcut, QualityWarning, SpectralClustering, SpectralNet
from .io import load

FileError = _core.FileError  # a file that cannot be read or written: an OSError and a RuntimeError
__version__ = "0.1.0"
__all__ = ["NeuNcut", "SpectralNet", "KMeans", "SpectralClustering", "CollapseWarning", "QualityWarning", "FileError", "load",
           "load_dataset", "scores", "param_table", "bf16_unavailable_reason",
           "fp32_gemm_library", "scattering"]


def load_dataset(spec):
    """Loads data as the CLI's ``--data`` does: "fashion-mnist" (70,000 x 784 in [0, 1], train
    then test, with labels) or a .npy / .csv / MNIST IDX path. Returns (X float32, labels int32 or None)."""
    import os

    return _core.load_dataset(os.fspath(spec))


def scores(truth, predicted):
    """{'acc', 'nmi', 'ari'} of predicted labels against ground truth, as the CLI reports them."""
    import numpy as np

    return _core.scores(np.asarray(truth, dtype=np.int32), np.asarray(predicted, dtype=np.int32))


def bf16_unavailable_reason():
    """'' when NeuNcut(precision="bf16") can run here; otherwise the reason (a build without
    oneDNN, a CPU without AVX512_BF16). See docs/mixed-precision.md."""
    return _core.bf16_unavailable_reason()


def fp32_gemm_library():
    """The library that runs the fp32 matrix products here: "oneDNN" (builds with oneDNN, the
    faster) or "Eigen"; NEUNCUT_FP32_GEMM=eigen in the environment at import chooses Eigen."""
    return _core.fp32_gemm_library()


def scattering(images, order=1, scales=0, angles=8, threads=0):
    """The wavelet scattering transform NeuNcut uses as image features (``features="scattering"``):
    ``images`` is (n, height, width); returns float32 (n, channels * cells), channels
    1 + scales*angles (+ angles^2 * scales*(scales-1)/2 at order 2), cells (M / 2^scales)^2 with M
    the padded grid (32 for 28 x 28 images at scales 3). ``scales=0`` (default): chosen from the
    image size as NeuNcut does (3 from 16 pixels on, 2 for 8 x 8 images; see
    ``auto_scattering_scales`` in include/neuncut/scattering.hpp). See docs/defaults.md, "Image features"."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be a 3-D array (n, height, width), got shape {images.shape}")
    X = np.ascontiguousarray(images.reshape(images.shape[0], -1), dtype=np.float32)
    return _core.scattering(X, images.shape[1], images.shape[2], int(scales), int(angles), int(order), int(threads))


def param_table(method="neuncut"):
    """The parameter table (Python name, CLI flag, type, default, doc) of "neuncut",
    "spectralnet", "kmeans" or "ncut": the one source of the keywords, the CLI flags and the docs."""
    from ._params import table

    return table(method)


def __getattr__(name):  # lazy: matplotlib is only imported when plots are asked for
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module 'neuncut' has no attribute {name!r}")
