"""The scikit-learn estimators: NeuNcut, SpectralNet, KMeans and SpectralClustering (classic Ncut).

Every estimator's keyword arguments are generated from its C++ parameter table (see
_params.py); ``__init__`` stores them unchanged and ``fit`` hands them to the compiled core,
which validates them with the CLI's messages.
"""
from __future__ import annotations

import inspect
import warnings
from typing import Any

import numpy as np
from sklearn.base import ClusterMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from . import _core
from ._base import ModelEstimator, NeuncutEstimator, epoch_callback, fits_atomically
from ._dask import accepts_dask_fit, accepts_dask_rows, is_dask_array
from ._params import core_params, make_init


class CollapseWarning(UserWarning):
    """A fit ended with near-uniform memberships or empty clusters (see ``fit_info_['collapse']``)."""


class QualityWarning(UserWarning):
    """The label-free quality check found the partition no better than chance, or clearly worse
    than k-means on the same data (see ``quality_`` and its ``what_to_try``)."""


_CALLBACK_DOC = ("called after every epoch with a dict of that epoch's statistics (epoch, epochs, loss, "
                 "learning_rate, ...); returning False stops training (KeyboardInterrupt), an exception "
                 "raised in it stops training and propagates")
_VERBOSE_DOC = "print a progress bar on stderr, one line redrawn per epoch"
_FIT_EXTRAS = (("callback", None, _CALLBACK_DOC, "Optional[Callable[[dict], Optional[bool]]]"),
               ("verbose", False, _VERBOSE_DOC, "bool"))


def _finish_class(cls, method, summary, extra=()):
    init, docs = make_init(method, extra)
    init.__qualname__ = f"{cls.__name__}.__init__"
    cls.__init__ = init
    # numpydoc layout: summary, Parameters (generated from the table), then the class's own
    # sections (Attributes), dedented so that all sections share one indentation.
    cls.__doc__ = (summary.strip() + "\n\nParameters\n----------\n" + "\n".join(docs) + "\n\n"
                   + inspect.cleandoc(cls.__doc__ or ""))
    return cls


def _fit_with_progress(name, model, X, callback, verbose):
    history = []
    on_epoch, bar = epoch_callback(name, callback, verbose, history)
    try:
        return model.fit(X, on_epoch)
    except BaseException:
        if bar is not None and history and history[-1]["epoch"] < history[-1]["epochs"]:
            bar.close()
        raise


class NeuNcut(ClusterMixin, ModelEstimator):
    """Attributes
    ----------
    labels_ : ndarray of int32, shape (n_samples,)
        Cluster of every row passed to fit (argmax of the memberships).
    history_ : list of dict
        One dict per epoch: epoch, epochs, loss, trace, penalty, orthogonality, gamma,
        learning_rate, elapsed_seconds, eta_seconds, clusters_used, mean_max_probability,
        largest_cluster_fraction, collapse, rolled_back_to (collapse recovery: the epoch
        training went back to after this one, 0 if none).
    sigma_ : float
        The Gaussian affinity bandwidth used (given or estimated).
    fit_info_ : dict
        sigma_estimated, train_points, batch_size, train_seconds, init_seconds,
        init_agreement (spectral init: share of the warm-start batch fitted), clusters_used,
        mean_max_probability, collapse ("" when healthy), collapse_rollbacks (times training
        went back to a healthy epoch after a collapse), restored_epoch (the healthy epoch whose
        network was kept because training ended collapsed; 0 if none), features, feature_dim,
        features_seconds, precision, affinity_precision, quality (as ``quality_``),
        selected_candidate and candidate_ncuts (``select="auto"``: the candidate kept, 0-based,
        and each candidate's discrete Ncut on the check graph; -1 and [] otherwise).
    quality_ : dict
        The label-free quality check of the labels: verdict ("good", "weak", "chance", or
        "not_checked" with ``quality_points=0``), ncut, kmeans_ncut, chance_ncut (discrete Ncut
        of the labels, of a k-means partition and of random ones on one kNN graph of a sample),
        relative ((ncut - kmeans_ncut) / (chance_ncut - kmeans_ncut)), sample_points,
        what_to_try (None when good). "weak" and "chance" also raise a ``QualityWarning``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when fitted on a DataFrame with string columns)
    """

    _method = "neuncut"

    @staticmethod
    def _core_class():
        return _core.NeuNcutModel

    @fits_atomically
    @accepts_dask_fit
    def fit(self, X: Any, y: Any = None) -> "NeuNcut":
        """Trains the network on X and labels its rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            Rows, or images: these are flattened and, with ``features="auto"``, clustered by
            their scattering transform (``image_shape`` set from X).
        y : ignored

        Returns
        -------
        self : NeuNcut
            Fitted; ``labels_``, ``history_``, ``fit_info_``, ``quality_`` set.
            A dask array X is fitted on its training subset (``train_size`` rows drawn with
            ``numpy.random.default_rng(random_state)``), computed in memory; ``labels_`` is then
            a lazy dask array (docs/python.md, "Dask arrays").

        Warns
        -----
        CollapseWarning, QualityWarning
        """
        X, shape = _flatten_images(X)
        X = self._check_X(X, reset=True)
        params = core_params(self, self._method)
        if shape is not None and not params["image_shape"]:
            params["image_shape"] = f"{shape[0]}x{shape[1]}"
        model = _core.NeuNcutModel(params)
        info = _fit_with_progress("NeuNcut", model, X, self.callback, self.verbose)
        self._model = model
        self.history_ = info.pop("history")
        self.fit_info_ = info
        self.sigma_ = info["sigma"]
        self.n_iter_ = len(self.history_)
        self.labels_ = model.predict(X)
        self.quality_ = info["quality"]
        if info["collapse"]:
            warnings.warn(f"NeuNcut: collapse detected: {info['collapse']}", CollapseWarning, stacklevel=3)
        verdict = self.quality_["verdict"]
        if verdict in ("weak", "chance"):
            what = "no better than chance" if verdict == "chance" else "clearly worse than k-means'"
            warnings.warn(f"NeuNcut: the partition is {what} on the data's kNN graph (Ncut "
                          f"{self.quality_['ncut']:.3f}, k-means {self.quality_['kmeans_ncut']:.3f}, chance "
                          f"{self.quality_['chance_ncut']:.3f}); {self.quality_['what_to_try']}", QualityWarning,
                          stacklevel=3)
        return self

    @accepts_dask_rows(np.int32)
    def predict(self, X: Any) -> np.ndarray:
        """Cluster of each row, for any rows, seen or not.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            As in fit.

        Returns
        -------
        ndarray of int32, shape (n_samples,)
            The argmax of ``predict_proba`` (the lowest index on ties).
            Lazy (a dask array computed block by block) when X is a dask array.
        """
        check_is_fitted(self)
        return self._model.predict(self._check_X(_flatten_images(X)[0], reset=False))

    @accepts_dask_rows(np.float32, width="n_clusters")
    def predict_proba(self, X: Any) -> np.ndarray:
        """Soft cluster memberships: the softmax of the network's logits.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            As in fit.

        Returns
        -------
        ndarray of float32, shape (n_samples, n_clusters)
            Rows summing to 1.
            Lazy (a dask array computed block by block) when X is a dask array.
        """
        check_is_fitted(self)
        return self._model.predict_proba(self._check_X(_flatten_images(X)[0], reset=False))

    def to_onnx(self, path: Any) -> "NeuNcut":
        """Writes the fitted model as an ONNX file (preprocessing, network, softmax), atomically.

        The graph's input ``X`` is what ``predict`` takes, except for image models, whose
        scattering transform is a documented pre-step: ``X`` is then
        ``neuncut.scattering(images, **neuncut.onnx_export.scattering_pre_step(model))``.
        Outputs ``probabilities`` (n, k) float32 and ``labels`` (n,) int64.
        Needs the ``onnx`` package (Debian: python3-onnx). See docs/onnx.md.

        Parameters
        ----------
        path : str or os.PathLike
            The ONNX file to write.

        Returns
        -------
        self : NeuNcut
        """
        from .onnx_export import export_onnx

        check_is_fitted(self)
        export_onnx(self, path)
        return self


def _flatten_images(X):
    """(X as 2-D, (height, width)) for a 3-D array of images, (X, None) for anything else."""
    if getattr(X, "ndim", None) == 3:
        return X.reshape(X.shape[0], -1), tuple(X.shape[1:])
    return X, None


_finish_class(NeuNcut, "neuncut", """
Neural Normalized Cut: an MLP trained on the relaxed Ncut loss of mini-batch affinities;
labels any number of points, seen or not.
""", extra=_FIT_EXTRAS)


class SpectralNet(TransformerMixin, ClusterMixin, ModelEstimator):
    """Attributes
    ----------
    labels_ : ndarray of int32, shape (n_samples,)
    history_ : list of dict
        One dict per epoch: epoch, epochs, loss, learning_rate, cholesky_fallbacks,
        elapsed_seconds, eta_seconds.
    fit_info_ : dict
        train_points, batch_size, cholesky_fallbacks, kmeans_inertia, kmeans_converged, message.
    n_features_in_ : int
    """

    _method = "spectralnet"

    @staticmethod
    def _core_class():
        return _core.SpectralNetModel

    @fits_atomically
    @accepts_dask_fit
    def fit(self, X: Any, y: Any = None) -> "SpectralNet":
        """Trains the network on X, then k-means on its embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, height, width)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and
            column), or images: these are flattened and, with ``features="auto"``, seen through their
            scattering transform (``image_shape`` set from X).
        y : ignored

        Returns
        -------
        self : SpectralNet
            A dask array X is fitted on its training subset (``train_size`` rows drawn with
            ``numpy.random.default_rng(random_state)``), computed in memory; ``labels_`` is then
            a lazy dask array (docs/python.md, "Dask arrays").

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When k-means on the embedding did not converge or the Cholesky step fell back.
        """
        X, shape = _flatten_images(X)
        X = self._check_X(X, reset=True)
        params = core_params(self, self._method)
        if shape is not None and not params["image_shape"]:
            params["image_shape"] = f"{shape[0]}x{shape[1]}"
        model = _core.SpectralNetModel(params)
        info = _fit_with_progress("SpectralNet", model, X, self.callback, self.verbose)
        self._model = model
        self.history_ = info.pop("history")
        self.labels_ = info.pop("labels")
        self.fit_info_ = info
        self.n_iter_ = len(self.history_)
        if info["message"]:
            warnings.warn(f"SpectralNet: {info['message']}", ConvergenceWarning, stacklevel=3)
        return self

    @accepts_dask_rows(np.int32)
    def predict(self, X: Any) -> np.ndarray:
        """Nearest k-means centroid of each row's embedding.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and column).

        Returns
        -------
        ndarray of int32, shape (n_samples,)
            Lazy (a dask array computed block by block) when X is a dask array.
        """
        check_is_fitted(self)
        return self._model.predict(self._check_X(_flatten_images(X)[0], reset=False))

    @accepts_dask_rows(np.float32, width="n_clusters")
    def transform(self, X: Any) -> np.ndarray:
        """The orthonormalized spectral embedding of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and column).

        Returns
        -------
        ndarray of float32, shape (n_samples, n_clusters)
            Lazy (a dask array computed block by block) when X is a dask array.
        """
        check_is_fitted(self)
        return self._model.embed(self._check_X(_flatten_images(X)[0], reset=False))


_finish_class(SpectralNet, "spectralnet", """
SpectralNet (Shaham et al. 2018): a network that learns the spectral embedding, then k-means on it.
""", extra=_FIT_EXTRAS)


class KMeans(ClusterMixin, ModelEstimator):
    """Attributes
    ----------
    labels_ : ndarray of int32, shape (n_samples,)
    cluster_centers_ : ndarray of float32, shape (n_clusters, n_features)
        Centroids in the preprocessed (L2-normalized when ``normalize``) space.
    inertia_ : float
    n_iter_ : int
    fit_info_ : dict
        converged, best_init, empty_cluster_reseeds, inertia_trace, sample_rows, full_passes, message,
        seconds (``sample_rows`` < n_samples: the restarts ran on a sample, then ``full_passes`` Lloyd
        passes over all rows; docs/baselines.md).
    n_features_in_ : int
    """

    _method = "kmeans"

    @staticmethod
    def _core_class():
        return _core.KMeansModel

    @fits_atomically
    @accepts_dask_fit
    def fit(self, X: Any, y: Any = None) -> "KMeans":
        """Clusters X (k-means++ seeding, n_init Lloyd restarts).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and column).
        y : ignored

        Returns
        -------
        self : KMeans
            A dask array X is computed in memory (KMeans has no ``train_size``); ``labels_`` is
            then a lazy dask array (docs/python.md, "Dask arrays").

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When no restart converged within max_iter.
        """
        X = self._check_X(X, reset=True)
        model, info = _core.fit_kmeans(X, core_params(self, self._method))
        self._model = model
        self.labels_ = info.pop("labels")
        self.inertia_ = info.pop("inertia")
        self.n_iter_ = info.pop("iterations")
        self.cluster_centers_ = np.array(model.centroids)
        self.fit_info_ = info
        if info["message"]:
            warnings.warn(f"KMeans: {info['message']}", ConvergenceWarning, stacklevel=3)
        return self

    @accepts_dask_rows(np.int32)
    def predict(self, X: Any) -> np.ndarray:
        """Index of the nearest centroid of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and column).

        Returns
        -------
        ndarray of int32, shape (n_samples,)
            Lazy (a dask array computed block by block) when X is a dask array.
        """
        check_is_fitted(self)
        return self._model.predict(self._check_X(X, reset=False), self.threads)

    def score(self, X: Any, y: Any = None) -> float:
        """Opposite of the inertia of X on the fitted centroids (scikit-learn's convention).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and column).
        y : ignored

        Returns
        -------
        float
        """
        check_is_fitted(self)
        return -self._model.inertia(self._check_X(X, reset=False), self.threads)


_finish_class(KMeans, "kmeans", """
k-means (greedy k-means++ seeding, Lloyd iterations, n_init restarts); deterministic for a seed.
""")


class SpectralClustering(ClusterMixin, NeuncutEstimator):
    """Classic Ncut is transductive: it labels the rows it was fitted on (``labels_``,
    ``fit_predict``) and has no predict for new rows and no model file.

    Attributes
    ----------
    labels_ : ndarray of int32, shape (n_samples,)
        All -1 (with a ConvergenceWarning) when the eigensolver did not converge.
    embedding_ : ndarray of float32, shape (n_samples, n_clusters)
        The normalized eigenvectors k-means clustered.
    eigenvalues_ : ndarray of float64
        Leading eigenvalues of D^-1/2 W D^-1/2, largest first.
    fit_info_ : dict
        converged, solver_status, restarts, matvecs, n_components, n_neighbors_used (more than
        n_neighbors when that kNN graph had more components than clusters), isolated_points, n_edges,
        knn_method, solver (exact or landmark), n_landmarks and landmark_neighbors_used (landmark
        solver), kmeans_inertia, kmeans_converged, message, total_seconds.
    n_features_in_ : int
    """

    _method = "ncut"

    @fits_atomically
    def fit(self, X: Any, y: Any = None) -> "SpectralClustering":
        """Builds the kNN graph of X, its leading eigenvectors, then k-means.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to cluster (converted to C-contiguous float32; NaN/Inf are refused with the row and column).
        y : ignored

        Returns
        -------
        self : SpectralClustering

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When the eigensolver did not converge (``labels_`` all -1).
        """
        if is_dask_array(X):  # transductive: its kNN graph needs every row in memory
            X = X.compute()
        X = self._check_X(X, reset=True)
        info = _core.fit_spectral_clustering(X, core_params(self, self._method))
        labels = info.pop("labels")
        self.embedding_ = info.pop("embedding")
        self.eigenvalues_ = info.pop("eigenvalues")
        self.fit_info_ = info
        if not info["converged"]:
            labels = np.full(X.shape[0], -1, dtype=np.int32)
            warnings.warn(f"SpectralClustering: {info['message']}", ConvergenceWarning, stacklevel=3)
        elif info["message"]:
            warnings.warn(f"SpectralClustering: {info['message']}", UserWarning, stacklevel=3)
        self.labels_ = labels
        return self


_finish_class(SpectralClustering, "ncut", """
Classic normalized-cut spectral clustering (Ng, Jordan and Weiss): kNN affinity graph,
Lanczos eigenvectors of the normalized affinity, k-means on the normalized rows.
""")
