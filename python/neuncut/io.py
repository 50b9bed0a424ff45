"""Reading model files written by the CLI or by ``Estimator.save``."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Union

import numpy as np

from . import _core
from ._params import python_params

if TYPE_CHECKING:  # pragma: no cover
    from ._base import ModelEstimator


def load(path: Union[str, "os.PathLike[str]"]) -> "ModelEstimator":
    """Loads a model file as a fitted estimator.

    Parameters
    ----------
    path : str or os.PathLike
        A model file written by ``neuncut fit --model m.nnc`` (or ``spectralnet``, ``kmeans``)
        or by ``est.save``.

    Returns
    -------
    NeuNcut, SpectralNet or KMeans
        The estimator the file's method tag names, fitted, with its stored parameters.

    Raises
    ------
    neuncut.FileError
        The file cannot be read (an OSError and a RuntimeError).
    ValueError
        It is not a valid neuncut model (the CLI's messages).
    """
    from .estimators import KMeans, NeuNcut, SpectralNet

    path = os.fspath(path)
    method = _core.model_method(path)
    if method == "neuncut":
        model = _core.NeuNcutModel.load(path)
        est = NeuNcut(**python_params("neuncut", model.params()))
        est.sigma_ = model.sigma
        est.n_features_in_ = model.input_dim
    elif method == "spectralnet":
        model = _core.SpectralNetModel.load(path)
        est = SpectralNet(**python_params("spectralnet", model.params()))
        est.n_features_in_ = model.input_dim
    elif method == "kmeans":
        model = _core.KMeansModel.load(path)
        est = KMeans(n_clusters=model.k, normalize=model.normalize)
        est.cluster_centers_ = np.array(model.centroids)
        est.n_features_in_ = model.dim
    else:  # pragma: no cover - the core knows no other tag
        raise ValueError(f"'{path}' holds a {method} model, which this package cannot load")
    est._model = model
    return est
