"""Shared machinery of the estimators: input checks, progress display, pickling."""
from __future__ import annotations

import functools
import os
import sys
import tempfile
from typing import Union

import numpy as np
from sklearn.base import BaseEstimator

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _sk_validate_data
except ImportError:  # pragma: no cover - older scikit-learn (Debian 12 ships 1.2)
    _sk_validate_data = None

from . import _core


def as_float32(X):
    """X as a C-contiguous, aligned float32 array: the array itself when it already is one (zero
    copy), a converted copy otherwise (float64, ints, Fortran order, slices, and float32 data at an
    address that is not a multiple of 4, as arrays unpickled from a byte buffer can be: the C++
    core reads whole floats, and a misaligned load is undefined behaviour)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    return X if X.flags.aligned else X.copy()


class NeuncutEstimator(BaseEstimator):
    """Base of the neuncut estimators (not public)."""

    _method = None  # the parameter table: "neuncut", "spectralnet", "kmeans", "ncut"

    def _check_X(self, X, reset):
        """Validates like scikit-learn (2-D, numeric, non-empty, DataFrame feature names, n_features_in_)
        but leaves NaN/Inf to the C++ core, which names the offending row and column."""
        kwargs = dict(dtype=np.float32, order="C", force_all_finite=False, reset=reset)
        if _sk_validate_data is not None:  # pragma: no cover
            kwargs["ensure_all_finite"] = kwargs.pop("force_all_finite")
            X = _sk_validate_data(self, X, **kwargs)
        else:
            X = self._validate_data(X, **kwargs)
        return as_float32(X)

    def _more_tags(self):
        return {"allow_nan": False, "X_types": ["2darray"], "preserves_dtype": [np.float32]}


def _is_fitted_attribute(name):
    """What fit sets: scikit-learn's fitted attributes (trailing underscore) and the compiled model."""
    return name == "_model" or (name.endswith("_") and not name.startswith("__"))


def fits_atomically(fit):
    """Wraps an estimator's fit so that a fit that fails (bad parameter, NaN data, an exception
    or KeyboardInterrupt from the callback, MemoryError) leaves the estimator as it was: unfitted,
    or with its previous model and every attribute that belongs to it (``n_features_in_``
    included, which scikit-learn's validation sets before the core runs)."""

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        before = {k: v for k, v in self.__dict__.items() if _is_fitted_attribute(k)}
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            for name in [k for k in self.__dict__ if _is_fitted_attribute(k)]:
                del self.__dict__[name]
            self.__dict__.update(before)
            raise

    return wrapper


class ModelEstimator(NeuncutEstimator):
    """An estimator whose fit leaves a compiled model in ``self._model`` (saved, loaded, pickled)."""

    @staticmethod
    def _core_class():
        raise NotImplementedError

    # Pickling: the compiled model travels as the bytes of its model file (the CLI's format).
    def __getstate__(self):
        state = self.__dict__.copy()
        model = state.pop("_model", None)
        if model is not None:
            state["_model_bytes"] = _model_to_bytes(model)
        return state

    def __setstate__(self, state):
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            self._model = _model_from_bytes(type(self)._core_class(), data)

    def save(self, path: Union[str, "os.PathLike[str]"]) -> "ModelEstimator":
        """Writes the fitted model in the CLI's model-file format (docs/model-format.md), atomically.

        Parameters
        ----------
        path : str or os.PathLike
            Destination (``.nnc`` by convention); ``neuncut predict --model`` and
            :func:`neuncut.load` read it.

        Returns
        -------
        self
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        self._model.save(os.fspath(path))
        return self


def _model_to_bytes(model):
    with tempfile.TemporaryDirectory(prefix="neuncut-") as tmp:
        path = os.path.join(tmp, "model.nnc")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def _model_from_bytes(core_class, data):
    with tempfile.TemporaryDirectory(prefix="neuncut-") as tmp:
        path = os.path.join(tmp, "model.nnc")
        with open(path, "wb") as f:
            f.write(data)
        return core_class.load(path)


class ProgressBar:
    """A plain-text progress bar on stderr, one line redrawn per epoch."""

    def __init__(self, name, stream=None, width=30):
        self.name, self.stream, self.width = name, stream or sys.stderr, width

    def __call__(self, stats):
        done, total = stats["epoch"], stats["epochs"]
        filled = int(round(self.width * done / max(total, 1)))
        bar = "#" * filled + "." * (self.width - filled)
        parts = [f"{self.name} [{bar}] {done}/{total}", f"loss {stats['loss']:.4g}"]
        for key, label in (("trace", "trace"), ("penalty", "penalty"), ("gamma", "gamma")):
            if key in stats:
                parts.append(f"{label} {stats[key]:.4g}")
        parts.append(f"lr {stats['learning_rate']:.3g}")
        parts.append(f"{stats['elapsed_seconds']:.1f}s, eta {stats['eta_seconds']:.1f}s")
        self.stream.write("\r" + "  ".join(parts))
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


def epoch_callback(name, callback, verbose, history):
    """The per-epoch function handed to the C++ fit: records history, draws the bar, calls the
    user's callback (which may return False to stop, or raise)."""
    bar = ProgressBar(name) if verbose else None

    def on_epoch(stats):
        history.append(stats)
        if bar is not None:
            bar(stats)
        if callback is not None:
            return callback(dict(stats))
        return None

    return on_epoch, bar
