"""neuncut: spectral clustering by Neural Normalized Cut, as scikit-learn estimators.

    from neuncut import NeuNcut
    model = NeuNcut(n_clusters=10).fit(X)      # X: (n_samples, n_features)
    labels = model.predict(Y)                  # any rows, seen or not
    model.save("model.nnc")                    # the CLI's model format
    same = neuncut.load("model.nnc")

Estimators: NeuNcut, SpectralNet, KMeans, SpectralClustering (classic Ncut).
Plots: neuncut.plot (matplotlib). Data: neuncut.load_dataset("fashion-mnist").
"""
from . import _core
from .estimators import CollapseWarning, KMeans, NeuNcut, SpectralClustering, SpectralNet
from .io import load

__version__ = "0.1.0"
__all__ = ["NeuNcut", "SpectralNet", "KMeans", "SpectralClustering", "CollapseWarning", "load",
           "load_dataset", "scores", "param_table", "bf16_unavailable_reason",
           "fp32_gemm_library"]


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
