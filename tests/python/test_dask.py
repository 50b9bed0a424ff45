"""Dask arrays as estimator input (docs/python.md, "Dask arrays"): fit on the training subset,
lazy predict / predict_proba / transform equal, bit for bit, to the numpy path, on the local
schedulers and on a 2-worker distributed LocalCluster."""
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from neuncut import KMeans, NeuNcut, SpectralClustering, SpectralNet

from conftest import blobs

da = pytest.importorskip("dask.array", reason="dask is not installed (Debian: python3-dask)")

N, D, K, CHUNK, TRAIN = 3000, 8, 3, 500, 1000


def small(cls, **kw):
    params = {NeuNcut: dict(epochs=5, hidden=(32,), train_size=TRAIN, quality_points=0),
              SpectralNet: dict(epochs=3, hidden=(16,), kmeans_n_init=2, n_neighbors=5),
              KMeans: dict(n_init=2),
              SpectralClustering: dict(n_neighbors=5)}[cls]
    params.update(n_clusters=K, threads=1, random_state=0, **kw)
    return cls(**params)


def subset_rows(n, train_size, seed):
    """The documented draw of fit's training subset from a dask array."""
    return np.sort(np.random.default_rng(seed).choice(n, size=train_size, replace=False))


@pytest.fixture(scope="module")
def X():
    return blobs(N, K, D)[0]


@pytest.fixture(scope="module")
def Xd(X):
    return da.from_array(X, chunks=(CHUNK, D))


@pytest.fixture(scope="module")
def fitted(Xd):
    return small(NeuNcut).fit(Xd)


def test_dask_is_not_imported_and_not_needed():
    code = ("import sys; sys.modules['dask'] = None\n"  # `import dask` now raises ImportError
            "import numpy as np, neuncut\n"
            "X = np.random.RandomState(0).rand(200, 4).astype(np.float32)\n"
            "m = neuncut.KMeans(n_clusters=2).fit(X)\n"
            "assert m.predict(X).shape == (200,)\n"
            "import importlib.util\n"
            "assert [k for k in sys.modules if k.startswith('dask.')] == [], 'dask imported'\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0, r.stderr


def test_results_are_lazy_dask_arrays(fitted, Xd):
    assert isinstance(fitted.labels_, da.Array)
    labels, proba = fitted.predict(Xd), fitted.predict_proba(Xd)
    assert isinstance(labels, da.Array) and isinstance(proba, da.Array)
    assert labels.dtype == np.int32 and labels.shape == (N,) and labels.chunks == ((CHUNK,) * (N // CHUNK),)
    assert proba.dtype == np.float32 and proba.shape == (N, K) and proba.chunks[1] == (K,)
    assert fitted.fit_info_["train_points"] == TRAIN


def test_model_enters_the_graph_once(fitted, Xd):
    graph = dict(fitted.predict_proba(Xd).__dask_graph__())
    models = [k for k, v in graph.items() if isinstance(v, NeuNcut)]
    assert len(models) == 1
    shipped = graph[models[0]]
    assert shipped is not fitted and not hasattr(shipped, "labels_") and not hasattr(shipped, "history_")


def test_equal_to_the_numpy_path_bit_for_bit(fitted, X, Xd):
    np.testing.assert_array_equal(fitted.predict(Xd).compute(), fitted.predict(X))
    np.testing.assert_array_equal(fitted.labels_.compute(), fitted.predict(X))
    proba = fitted.predict_proba(Xd).compute()
    assert proba.dtype == np.float32
    assert np.array_equal(proba, fitted.predict_proba(X))  # bit-equal (docs/row-invariance.md)


@pytest.mark.parametrize("chunks", [(777, D), (N, D), (250, 3), (1, D)])
def test_chunking_does_not_change_results(fitted, X, chunks):
    if chunks[0] == 1:
        X, chunks = X[:40], (1, D)  # one row per block, on a few rows
    Xd = da.from_array(X, chunks=chunks)
    np.testing.assert_array_equal(fitted.predict(Xd).compute(), fitted.predict(X))
    assert np.array_equal(fitted.predict_proba(Xd).compute(), fitted.predict_proba(X))


def test_fit_equals_the_numpy_fit_on_the_subset(fitted, X):
    rows = subset_rows(N, TRAIN, 0)
    ref = small(NeuNcut).fit(X[rows])
    assert [h["loss"] for h in fitted.history_] == [h["loss"] for h in ref.history_]
    assert fitted.sigma_ == ref.sigma_
    assert np.array_equal(fitted.predict_proba(X), ref.predict_proba(X))


@pytest.mark.parametrize("cls", [SpectralNet, KMeans])
def test_fit_on_all_rows_equals_the_numpy_fit(cls, X, Xd):
    """SpectralNet (train_size=0) and KMeans (no train_size) compute every row: the same model."""
    lazy, ref = small(cls).fit(Xd), small(cls).fit(X)
    np.testing.assert_array_equal(lazy.labels_.compute(), ref.predict(X))
    np.testing.assert_array_equal(lazy.predict(Xd).compute(), ref.predict(X))
    if cls is SpectralNet:
        embedding = lazy.transform(Xd)
        assert isinstance(embedding, da.Array) and embedding.shape == (N, K)
        assert np.array_equal(embedding.compute(), ref.transform(X))
    else:
        np.testing.assert_array_equal(lazy.cluster_centers_, ref.cluster_centers_)


def test_neuncut_train_size_above_n_fits_every_row(X, Xd):
    lazy, ref = small(NeuNcut, train_size=5 * N).fit(Xd), small(NeuNcut, train_size=5 * N).fit(X)
    assert lazy.fit_info_["train_points"] == N
    assert np.array_equal(lazy.predict_proba(X), ref.predict_proba(X))


def test_fit_predict_is_lazy(X, Xd):
    est = small(KMeans)
    labels = est.fit_predict(Xd)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), est.predict(X))


@pytest.mark.filterwarnings("ignore:SpectralClustering. the affinity graph has 3 connected components")
def test_spectral_clustering_computes_the_array(X, Xd):
    np.testing.assert_array_equal(small(SpectralClustering).fit(Xd).labels_, small(SpectralClustering).fit(X).labels_)


def test_images_as_a_3d_dask_array(X):
    images = X.reshape(N, 4, 2)
    est = small(NeuNcut, features="raw").fit(da.from_array(images, chunks=(CHUNK, 4, 2)))
    lazy = da.from_array(images, chunks=(600, 2, 1))
    np.testing.assert_array_equal(est.predict(lazy).compute(), est.predict(images))
    assert np.array_equal(est.predict_proba(lazy).compute(), est.predict_proba(images))


@pytest.mark.parametrize("cls,method", [(NeuNcut, "predict"), (NeuNcut, "predict_proba"), (SpectralNet, "predict"),
                                        (SpectralNet, "transform"), (KMeans, "predict")])
def test_unfitted_raises_not_fitted_error_at_the_call(cls, method, Xd):
    with pytest.raises(NotFittedError):
        getattr(small(cls), method)(Xd)


def test_wrong_feature_count_raises_at_the_call(fitted):
    with pytest.raises(ValueError, match="X has 5 features, but NeuNcut is expecting 8 features"):
        fitted.predict(da.zeros((10, 5), chunks=(5, 5), dtype=np.float32))


def test_unknown_row_count_is_refused(Xd):
    unknown = Xd[Xd[:, 0] > -100]  # a boolean mask: the row count is unknown until computed
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        small(NeuNcut).fit(unknown)


def test_failed_dask_fit_leaves_the_estimator_unfitted():
    est = small(NeuNcut)
    with pytest.raises(ValueError):
        est.fit(da.from_array(np.full((100, D), np.nan, dtype=np.float32), chunks=(50, D)))
    with pytest.raises(NotFittedError):
        est.predict(np.zeros((1, D), dtype=np.float32))


@pytest.mark.filterwarnings("ignore:make_current is deprecated:DeprecationWarning")  # tornado under distributed
def test_two_worker_local_cluster(fitted, X, Xd):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (python3-distributed)")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        labels, proba = client.compute([fitted.predict(Xd), fitted.predict_proba(Xd)], sync=True)
        np.testing.assert_array_equal(labels, fitted.predict(X))
        assert np.array_equal(proba, fitted.predict_proba(X))
        # The blocks ran on both workers (each a process of its own), each fetching the model once.
        blocks = client.persist(fitted.predict_proba(Xd))
        distributed.wait(blocks)
        holders = client.who_has(blocks)
        assert len({w for ws in holders.values() for w in ws}) == 2
        assert np.array_equal(blocks.compute(), fitted.predict_proba(X))
        # fit through the cluster: the subset's rows are computed there.
        refit = small(NeuNcut).fit(Xd)
        assert np.array_equal(refit.predict_proba(X), fitted.predict_proba(X))
