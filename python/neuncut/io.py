"""Reading model files written by the CLI or by ``Estimator.save``."""
from __future__ import annotations

import os

import numpy as np

from . import _core
from ._params import python_params


def load(path):
    """Loads a model file (``neuncut fit --model m.nnc`` or ``est.save``) and returns a fitted
    estimator of the kind its method tag names: NeuNcut, SpectralNet or KMeans.

    Raises neuncut.FileError (an OSError and a RuntimeError) when the file cannot be read and ValueError when it is not a valid
    neuncut model, with the CLI's messages."""
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
