"""Dask arrays as estimator input (docs/python.md, "Dask arrays").

dask stays optional: nothing here imports it until a dask array arrives, and an array is
recognized as one only when ``dask.array`` is already imported (no dask array can exist
otherwise), so the package imports and works without dask.

- ``fit`` draws the training subset by index (``training_rows``), computes only those rows and
  fits on them in memory, as for a numpy array; ``labels_`` is then lazy (``predict`` of X).
- ``predict`` / ``predict_proba`` / ``transform`` return lazy dask arrays computed block by
  block, each block with whole rows; the fitted model enters the graph once, as one key (a
  ``dask.delayed`` object), so a distributed scheduler sends it to each worker once.
"""
from __future__ import annotations

import copy
import functools
import math
import sys

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._params import seed_of

# Fitted attributes a block's prediction never reads: left out of the model that is shipped.
_NOT_SHIPPED = ("labels_", "history_", "embedding_", "fit_info_", "quality_")


def is_dask_array(X) -> bool:
    """Whether X is a dask array (False without importing dask when it is not imported)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


def training_rows(n_rows: int, train_size: int, random_state) -> np.ndarray | None:
    """The rows ``fit`` computes from a dask array of ``n_rows`` rows: None (all of them) when
    ``train_size`` is 0 or >= ``n_rows``, else ``train_size`` distinct rows drawn by numpy's
    ``Generator`` seeded with ``random_state``'s seed, sorted."""
    if train_size <= 0 or train_size >= n_rows:
        return None
    rng = np.random.default_rng(seed_of(random_state))
    return np.sort(rng.choice(n_rows, size=int(train_size), replace=False))


def _known_rows(X, who):
    n = X.shape[0]
    if isinstance(n, float) and math.isnan(n):
        raise ValueError(f"{who}: the dask array's number of rows is unknown; call X.compute_chunk_sizes() first")
    return int(n)


def accepts_dask_fit(fit):
    """Wraps ``fit``: a dask array is fitted on its training subset (``training_rows``), computed
    in memory; ``labels_`` becomes the lazy ``predict`` of every row."""

    @functools.wraps(fit)
    def wrapper(self, X, y=None, **kwargs):
        if not is_dask_array(X):
            return fit(self, X, y, **kwargs)
        who = type(self).__name__
        rows = training_rows(_known_rows(X, who), int(getattr(self, "train_size", 0)), self.random_state)
        subset = X if rows is None else X[rows]
        fit(self, np.asarray(subset.compute()), y, **kwargs)
        self.labels_ = self.predict(X)
        return self

    return wrapper


def accepts_dask_rows(dtype, width=None):
    """Wraps a row-wise method (predict, predict_proba, transform): on a dask array it returns a
    lazy dask array of ``dtype``, one value per row (``width=None``) or ``getattr(self, width)``
    columns."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, X, *args, **kwargs):
            if not is_dask_array(X):
                return method(self, X, *args, **kwargs)
            return lazy_rows(self, method.__name__, X, np.dtype(dtype), None if width is None else int(getattr(self, width)))

        return wrapper

    return decorate


def _apply(block, model, method):
    return getattr(model, method)(block)


def shipped_model(estimator):
    """A shallow copy of a fitted estimator with only what prediction reads (no labels, history,
    callback): what each worker receives."""
    model = copy.copy(estimator)
    for name in _NOT_SHIPPED:
        model.__dict__.pop(name, None)
    if "callback" in model.__dict__:
        model.callback = None
    return model


def lazy_rows(estimator, method, X, dtype, width):
    """``estimator.<method>`` of every row of the dask array X, lazily, one task per block of rows."""
    import dask

    check_is_fitted(estimator)
    who = type(estimator).__name__
    if X.ndim not in (2, 3):
        raise ValueError(f"{who}.{method}: expected a 2-D dask array (or 3-D images), got {X.ndim}-D")
    features = int(np.prod(X.shape[1:]))
    if features != estimator.n_features_in_:
        raise ValueError(f"X has {features} features, but {who} is expecting "
                         f"{estimator.n_features_in_} features as input.")
    X = X.rechunk({axis: -1 for axis in range(1, X.ndim)})  # every block holds whole rows
    model = dask.delayed(shipped_model(estimator), traverse=False)
    if width is None:
        chunks, drop, meta = (X.chunks[0],), list(range(1, X.ndim)), np.empty((0,), dtype)
    else:
        chunks, drop, meta = (X.chunks[0], (width,)), list(range(2, X.ndim)), np.empty((0, 0), dtype)
    return X.map_blocks(_apply, model, method=method, dtype=dtype, chunks=chunks, drop_axis=drop, meta=meta,
                        name=f"{who.lower()}-{method.replace('_', '-')}")
