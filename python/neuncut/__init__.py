"""neuncut: spectral clustering by Neural Normalized Cut, as scikit-learn estimators.

    from neuncut import NeuNcut
    model = NeuNcut(n_clusters=10).fit(X)      # X: (n_samples, n_features)
    labels = model.predict(Y)                  # any rows, seen or not
    model.save("model.nnc")                    # the CLI's model format
    same = neuncut.load("model.nnc")

Estimators: NeuNcut, SpectralNet, KMeans, SpectralClustering (classic Ncut).
Plots: neuncut.plot (matplotlib). Data: neuncut.load_dataset("fashion-mnist").
ONNX: NeuNcut.to_onnx(path), neuncut.onnx_export (docs/onnx.md).
The `neuncut` command (installed by pip) is the CLI; ``python -m neuncut`` runs it too.
"""
import os
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _base, _core
from .estimators import CollapseWarning, KMeans, NeuNcut, QualityWarning, SpectralClustering, SpectralNet
from .io import load

FileError = _core.FileError  # a file that cannot be read or written: an OSError and a RuntimeError
__version__: str = _core.__version__  # the project VERSION in CMakeLists.txt, compiled into _core
__all__ = ["NeuNcut", "SpectralNet", "KMeans", "SpectralClustering", "CollapseWarning", "QualityWarning", "FileError", "load",
           "load_dataset", "scores", "param_table", "bf16_unavailable_reason",
           "fp32_gemm_library", "scattering", "__version__"]


def load_dataset(spec: Union[str, "os.PathLike[str]"]) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Loads data as the CLI's ``--data`` does.

    Parameters
    ----------
    spec : str or os.PathLike
        "fashion-mnist" (70,000 x 784 in [0, 1], train then test, with labels; Debian package
        dataset-fashion-mnist) or a .npy / .csv / MNIST IDX path.

    Returns
    -------
    X : ndarray of float32, shape (n_samples, n_features)
    labels : ndarray of int32, shape (n_samples,), or None
        The labels the file carries, if any.

    Raises
    ------
    neuncut.FileError
        The file cannot be read.
    ValueError
        The file is malformed (the CLI's message).
    """
    return _core.load_dataset(os.fspath(spec))


def scores(truth: Any, predicted: Any) -> Dict[str, float]:
    """Clustering scores of predicted labels against ground truth, as the CLI reports them.

    Parameters
    ----------
    truth : array-like of int, shape (n,)
        Ground-truth classes.
    predicted : array-like of int, shape (n,)
        Cluster labels.

    Returns
    -------
    dict
        ``acc`` (accuracy under the best cluster-to-class matching, Hungarian), ``nmi`` and ``ari``.
    """
    return _core.scores(np.asarray(truth, dtype=np.int32), np.asarray(predicted, dtype=np.int32))


def bf16_unavailable_reason() -> str:
    """Why ``NeuNcut(precision="bf16")`` cannot run here.

    Returns
    -------
    str
        "" when it can; otherwise the reason (a build without oneDNN, a CPU without
        AVX512_BF16). See docs/mixed-precision.md.
    """
    return _core.bf16_unavailable_reason()


def fp32_gemm_library() -> str:
    """The library that runs the fp32 matrix products here.

    Returns
    -------
    str
        "oneDNN" (builds with oneDNN, the faster) or "Eigen"; NEUNCUT_FP32_GEMM=eigen in the
        environment at import chooses Eigen.
    """
    return _core.fp32_gemm_library()


def scattering(images: Any, order: int = 1, scales: int = 0, angles: int = 8, threads: int = 0) -> np.ndarray:
    """The wavelet scattering transform NeuNcut uses as image features (``features="scattering"``).

    Also the pre-step of an exported image model's ONNX graph (docs/onnx.md).

    Parameters
    ----------
    images : array-like of shape (n, height, width)
        The images.
    order : int, default=1
        Highest order of coefficients kept: 1 or 2.
    scales : int, default=0
        Wavelet scales J; 0 chooses from the image size as NeuNcut does (3 from 16 pixels on,
        2 for 8 x 8 images; ``auto_scattering_scales`` in include/neuncut/features/scattering.hpp).
    angles : int, default=8
        Wavelet orientations L.
    threads : int, default=0
        Threads (0: all cores).

    Returns
    -------
    ndarray of float32, shape (n, channels * cells)
        channels = 1 + J*L (+ L^2 * J*(J-1)/2 at order 2), cells = (M / 2^J)^2 with M the
        padded grid (32 for 28 x 28 images at J = 3). See docs/defaults.md, "Image features".
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must be a 3-D array (n, height, width), got shape {images.shape}")
    X = _base.as_float32(images.reshape(images.shape[0], -1))
    return _core.scattering(X, images.shape[1], images.shape[2], int(scales), int(angles), int(order), int(threads))


def param_table(method: str = "neuncut") -> List[Dict[str, Any]]:
    """The parameter table of an estimator: the one source of its keywords, CLI flags and docs.

    Parameters
    ----------
    method : {"neuncut", "spectralnet", "kmeans", "ncut"}, default="neuncut"

    Returns
    -------
    list of dict
        One dict per parameter: ``name`` (Python keyword), ``cpp_name``, ``flag`` (CLI, without
        ``--``), ``type``, ``default`` (typed) and ``doc``.
    """
    from ._params import table

    return table(method)


def __getattr__(name):  # lazy: matplotlib (plot) and onnx (onnx_export) only when asked for
    if name in ("plot", "onnx_export"):
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'neuncut' has no attribute {name!r}")
