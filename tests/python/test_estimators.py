"""The estimators' behaviour beyond scikit-learn's generic checks: parameters generated from the
C++ tables, input conversion and the zero-copy path, errors, interrupts, history, pickling."""
import inspect
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from sklearn.base import clone

import neuncut
from neuncut import KMeans, NeuNcut, SpectralClustering, SpectralNet, _core
from neuncut._params import table

from conftest import blobs

ESTIMATORS = {"neuncut": NeuNcut, "spectralnet": SpectralNet, "kmeans": KMeans, "ncut": SpectralClustering}
PYTHON_ONLY = {"neuncut": ["callback", "verbose"], "spectralnet": ["callback", "verbose"], "kmeans": [], "ncut": []}


def small_neuncut(**kw):
    params = dict(n_clusters=3, epochs=20, hidden=(32,), threads=1, random_state=0)
    params.update(kw)
    return NeuNcut(**params)


# ---- parameters: one source of truth ----------------------------------------------------

@pytest.mark.parametrize("method", sorted(ESTIMATORS))
def test_keywords_are_the_cpp_table(method):
    rows = _core.param_table(method)
    sig = inspect.signature(ESTIMATORS[method])
    expected = [("random_state" if r["name"] == "seed" else r["name"]) for r in rows] + PYTHON_ONLY[method]
    assert list(sig.parameters) == expected
    for row in table(method):
        assert sig.parameters[row["name"]].default == row["default"], row["name"]
        assert row["doc"] in ESTIMATORS[method].__doc__


@pytest.mark.parametrize("method", sorted(ESTIMATORS))
def test_defaults_round_trip_through_the_cpp_parser(method):
    est = ESTIMATORS[method]()
    from neuncut._params import core_params

    from neuncut._params import from_text

    texts = core_params(est, method)
    for row in _core.param_table(method):
        assert from_text(row["type"], texts[row["name"]]) == from_text(row["type"], row["default"]), row["name"]


def test_get_set_params_and_clone():
    est = NeuNcut(n_clusters=4, hidden=(8, 8), random_state=7)
    params = est.get_params()
    assert params["n_clusters"] == 4 and params["hidden"] == (8, 8) and params["random_state"] == 7
    est.set_params(epochs=3, learning_rate=0.01)
    assert est.epochs == 3 and est.learning_rate == 0.01
    other = clone(est)
    assert other.get_params() == est.get_params()
    assert "n_clusters=4" in repr(est)


def test_fitted_params_match_the_model():
    est = small_neuncut(epochs=2, gamma=40.0, scaling="center", hidden=()).fit(blobs()[0])
    assert est._model.params()["gamma"] == "40"
    assert est._model.params()["scaling"] == "center"
    assert est._model.params()["hidden"] in ("", "none")  # a linear model


# ---- fit / predict ------------------------------------------------------------------------

def misaligned_copy(X):
    """X as float32 at an address one byte past a multiple of 4 (as arrays unpickled from a byte
    buffer can be, e.g. by dask's workers)."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    raw = np.zeros(X.nbytes + 1, dtype=np.uint8)
    out = np.frombuffer(raw.data, dtype=np.uint8, count=X.nbytes, offset=1).view(np.float32).reshape(X.shape)
    out[...] = X
    assert not out.flags.aligned
    return out


@pytest.mark.parametrize("method", ["neuncut", "kmeans"])
def test_misaligned_float32_input_is_copied_and_gives_the_same_result(data, method):
    # A float32 array at a misaligned address used to reach the C++ core as is (a misaligned load,
    # undefined behaviour: UBSan stopped dask's workers); it is now copied to an aligned array.
    X, _ = data
    assert neuncut._base.as_float32(misaligned_copy(X)).flags.aligned
    est = small_neuncut() if method == "neuncut" else KMeans(n_clusters=3, threads=1, random_state=0)
    est.fit(misaligned_copy(X))
    np.testing.assert_array_equal(est.predict(misaligned_copy(X)), est.predict(X))
    if method == "neuncut":
        np.testing.assert_array_equal(est.predict_proba(misaligned_copy(X)), est.predict_proba(X))
        images = misaligned_copy(np.random.default_rng(0).random((3, 16, 16)))
        np.testing.assert_array_equal(neuncut.scattering(images, threads=1),
                                      neuncut.scattering(images.copy(), threads=1))

def test_neuncut_fit_predict(data):
    X, y = data
    est = small_neuncut().fit(X)
    assert est.labels_.dtype == np.int32 and est.labels_.shape == (len(X),)
    assert neuncut.scores(y, est.labels_)["acc"] > 0.95
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    proba = est.predict_proba(X)
    assert proba.dtype == np.float32 and proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), est.labels_)
    assert est.n_features_in_ == 2
    assert len(est.history_) == 20 and est.n_iter_ == 20
    for key in ("epoch", "loss", "trace", "penalty", "gamma", "learning_rate", "collapse", "rolled_back_to"):
        assert key in est.history_[0]
    assert est.sigma_ > 0 and est.fit_info_["train_points"] == len(X)
    assert est.fit_info_["collapse_rollbacks"] == 0 and est.fit_info_["restored_epoch"] == 0


def test_inputs_float64_int_dataframe_give_the_same_labels(data):
    pd = pytest.importorskip("pandas")
    X, _ = data
    ref = small_neuncut(epochs=5).fit(X).labels_
    np.testing.assert_array_equal(small_neuncut(epochs=5).fit(X.astype(np.float64)).labels_, ref)
    np.testing.assert_array_equal(small_neuncut(epochs=5).fit(np.asfortranarray(X)).labels_, ref)
    df = pd.DataFrame(X, columns=["a", "b"])
    est = small_neuncut(epochs=5).fit(df)
    np.testing.assert_array_equal(est.labels_, ref)
    assert list(est.feature_names_in_) == ["a", "b"]
    np.testing.assert_array_equal(est.predict(df), ref)
    Xi = (X * 10).astype(np.int64)
    np.testing.assert_array_equal(small_neuncut(epochs=5).fit(Xi).labels_,
                                  small_neuncut(epochs=5).fit(Xi.astype(np.float32)).labels_)


def test_zero_copy_path(data):
    X, _ = data
    assert X.dtype == np.float32 and X.flags.c_contiguous
    # The core sees the caller's buffer itself ...
    assert _core.data_address(X) == X.__array_interface__["data"][0]
    # ... and the estimators hand it over unconverted.
    est = NeuNcut()
    assert np.shares_memory(est._check_X(X, reset=True), X)
    assert est._check_X(X, reset=True).__array_interface__["data"][0] == X.__array_interface__["data"][0]
    # Without the Python-side conversion the core refuses to copy silently.
    with pytest.raises(TypeError):
        _core.data_address(X.astype(np.float64))
    with pytest.raises(TypeError):
        _core.data_address(X[:, ::2])
    assert not np.shares_memory(est._check_X(X.astype(np.float64), reset=True), X)


def test_fit_is_deterministic(data):
    X, _ = data
    a, b = small_neuncut(epochs=5).fit(X), small_neuncut(epochs=5).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = small_neuncut(epochs=5, random_state=np.random.RandomState(3)).fit(X)  # accepted, drawn seed
    assert c.labels_.shape == a.labels_.shape


def test_spectralnet_kmeans_ncut(data):
    X, y = data
    sn = SpectralNet(n_clusters=3, epochs=5, hidden=(32,), threads=1).fit(X)
    assert sn.labels_.dtype == np.int32
    np.testing.assert_array_equal(sn.predict(X), sn.labels_)
    emb = sn.transform(X)
    assert emb.shape == (len(X), 3) and emb.dtype == np.float32
    assert len(sn.history_) == 5
    km = KMeans(n_clusters=3, threads=1).fit(X)
    assert neuncut.scores(y, km.labels_)["acc"] > 0.95
    assert km.cluster_centers_.shape == (3, 2) and km.inertia_ >= 0
    np.testing.assert_array_equal(km.predict(X), km.labels_)
    sc = SpectralClustering(n_clusters=3, threads=1).fit(X)
    assert neuncut.scores(y, sc.labels_)["acc"] > 0.95
    assert sc.embedding_.shape == (len(X), 3) and sc.eigenvalues_[0] == pytest.approx(1, abs=1e-4)
    assert not hasattr(sc, "predict")
    assert sc.fit_info_["solver"] == "exact"
    lm = SpectralClustering(n_clusters=3, solver="landmark", landmarks=60, threads=1).fit(X)
    assert lm.fit_info_["solver"] == "landmark" and lm.fit_info_["n_landmarks"] == 60
    assert neuncut.scores(y, lm.labels_)["acc"] > 0.95
    with pytest.raises(ValueError, match="more landmarks than clusters"):
        SpectralClustering(n_clusters=3, solver="landmark", landmarks=3, threads=1).fit(X)


@pytest.mark.parametrize("make", [lambda: small_neuncut(epochs=3),
                                  lambda: SpectralNet(n_clusters=3, epochs=2, hidden=(16,), threads=1),
                                  lambda: KMeans(n_clusters=3, threads=1)])
def test_save_load_pickle(tmp_path, data, make):
    X, _ = data
    est = make().fit(X)
    path = tmp_path / "m.nnc"
    est.save(path)
    back = neuncut.load(path)
    assert type(back) is type(est)
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    if isinstance(est, (NeuNcut, SpectralNet)):
        assert back.get_params() == {**est.get_params(), "callback": None, "verbose": False}
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert again.get_params() == est.get_params()


def test_fp32_gemm_library_is_named():
    assert neuncut.fp32_gemm_library() in ("oneDNN", "Eigen")
    if os.environ.get("NEUNCUT_FP32_GEMM") == "eigen":
        assert neuncut.fp32_gemm_library() == "Eigen"


def test_precision_bf16(tmp_path, data):
    """precision='bf16' trains, is saved with the model and predicts the same after loading;
    where bf16 cannot run, the fit raises ValueError with the reason."""
    X, y = data
    reason = neuncut.bf16_unavailable_reason()
    if reason:
        with pytest.raises(ValueError, match="bf16"):
            small_neuncut(precision="bf16").fit(X)
        pytest.skip(f"bf16 unavailable: {reason}")
    est = small_neuncut(precision="bf16").fit(X)
    assert est.fit_info_["precision"] == "bf16" and est.fit_info_["affinity_precision"] == "fp32"  # 2-D rows
    assert neuncut.scores(y, est.labels_)["acc"] > 0.95
    est.save(tmp_path / "bf16.nnc")
    back = neuncut.load(tmp_path / "bf16.nnc")
    assert back.precision == "bf16"
    np.testing.assert_array_equal(back.predict_proba(X), est.predict_proba(X))


# ---- errors: the CLI's messages -------------------------------------------------------------

def test_error_mapping(tmp_path, data):
    X, _ = data
    with pytest.raises(ValueError, match=r"^k \(n_clusters\) must be >= 1, got 0$"):
        NeuNcut(n_clusters=0).fit(X)
    with pytest.raises(ValueError, match="scaling"):
        NeuNcut(scaling="bogus").fit(X)
    with pytest.raises(ValueError, match="hidden"):
        NeuNcut(hidden="x,y").fit(X)
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN|nan"):
        small_neuncut().fit(bad)
    with pytest.raises(ValueError, match=r"k \(400\) exceeds the number of points \(300\)"):
        NeuNcut(n_clusters=400).fit(X)
    # An OSError as Python code expects of a missing file, and still the RuntimeError of before.
    for expected in (OSError, RuntimeError, neuncut.FileError):
        with pytest.raises(expected, match="missing.nnc"):
            neuncut.load(tmp_path / "missing.nnc")
    junk = tmp_path / "junk.nnc"
    junk.write_bytes(b"not a model at all, but long enough to have a header........")
    with pytest.raises(ValueError):
        neuncut.load(junk)
    km = tmp_path / "km.nnc"
    KMeans(n_clusters=3, threads=1).fit(X).save(km)
    with pytest.raises(ValueError, match="kmeans"):
        _core.NeuNcutModel.load(str(km))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        NeuNcut().predict(X)
    with pytest.raises(ValueError, match="features"):
        small_neuncut(epochs=2).fit(X).predict(np.ones((3, 5), np.float32))


# ---- a failed fit leaves the estimator as it was ---------------------------------------------

FAILING_FITS = {
    "bad parameter": (dict(n_clusters=0), lambda X: X),
    "NaN data": ({}, lambda X: np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X).astype(np.float32)),
}
SMALL = {NeuNcut: dict(n_clusters=3, epochs=2, hidden=(8,), threads=1),
         SpectralNet: dict(n_clusters=3, epochs=2, hidden=(8,), threads=1),
         KMeans: dict(n_clusters=3, threads=1),
         SpectralClustering: dict(n_clusters=3, threads=1)}


def _fitted_state(est):
    return {k: v for k, v in vars(est).items() if k == "_model" or (k.endswith("_") and not k.startswith("__"))}


@pytest.mark.parametrize("failure", sorted(FAILING_FITS))
@pytest.mark.parametrize("cls", list(SMALL), ids=lambda c: c.__name__)
def test_failed_fit_leaves_an_unfitted_estimator_unfitted(data, cls, failure):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X, _ = data
    params, corrupt = FAILING_FITS[failure]
    est = cls(**{**SMALL[cls], **params})
    with pytest.raises(ValueError):
        est.fit(corrupt(X))
    assert _fitted_state(est) == {}, "half-fitted"
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


@pytest.mark.parametrize("cls", list(SMALL), ids=lambda c: c.__name__)
def test_failed_refit_keeps_the_previous_model_whole(data, cls):
    X, _ = data
    est = cls(**SMALL[cls]).fit(X)
    before = _fitted_state(est)
    labels = est.labels_.copy()
    wider = np.hstack([X, X]).astype(np.float32)
    wider[3, 2] = np.inf
    with pytest.raises(ValueError):
        est.fit(wider)  # 4 features and an Inf: fails after scikit-learn's validation set n_features_in_ = 4
    assert est.n_features_in_ == 2
    assert _fitted_state(est).keys() == before.keys()
    assert all(_fitted_state(est)[k] is v for k, v in before.items())
    np.testing.assert_array_equal(est.labels_, labels)
    if hasattr(est, "predict"):
        np.testing.assert_array_equal(est.predict(X), labels)


@pytest.mark.parametrize("cls", [NeuNcut, SpectralNet], ids=lambda c: c.__name__)
def test_interrupted_fit_and_refit_leave_the_estimator_as_it_was(data, cls):
    from sklearn.utils.validation import check_is_fitted
    from sklearn.exceptions import NotFittedError

    X, _ = data

    def interrupt(stats):
        raise KeyboardInterrupt

    est = cls(**SMALL[cls], callback=interrupt)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    est.set_params(callback=None).fit(X)
    before = _fitted_state(est)
    with pytest.raises(KeyboardInterrupt):
        est.set_params(callback=interrupt).fit(X[:, :1])
    assert est.n_features_in_ == 2 and all(_fitted_state(est)[k] is v for k, v in before.items())


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="an address-space limit cannot be combined with AddressSanitizer's shadow memory "
                           "(scripts/test-sanitize.sh preloads libasan)")
def test_out_of_memory_is_a_memory_error_that_says_so(data):
    """std::bad_alloc in the core arrives as MemoryError with a message a user can act on (pybind11's
    own mapping said only 'std::bad_alloc'), and the estimator stays unfitted. The configuration
    fits in physical memory (so the estimate before training lets it through) but not under the
    address-space limit the child process sets itself, so the allocation itself fails."""
    code = textwrap.dedent("""
        import resource, numpy as np, neuncut
        from neuncut.estimators import NeuNcut
        X = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
        est = NeuNcut(n_clusters=3, hidden=(20000, 20000), epochs=1, threads=1)  # 400M weights: about 8 GB
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        try:
            est.fit(X)
        except MemoryError as e:
            assert "out of memory" in str(e), str(e)
            assert not hasattr(est, "_model") and not hasattr(est, "n_features_in_")
            print("MemoryError as expected")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert r.returncode == 0 and "MemoryError as expected" in r.stdout, r.stdout + r.stderr


def test_configuration_beyond_physical_memory_is_refused_before_training(data):
    X, _ = data
    est = NeuNcut(n_clusters=3, hidden=(2 ** 30, 2 ** 30), epochs=1, threads=1)  # 2^60 weights
    with pytest.raises(ValueError, match="GiB of memory"):
        est.fit(X)
    assert _fitted_state(est) == {}


# ---- callbacks, progress, interrupts -------------------------------------------------------

def test_callback_and_verbose(data, capsys):
    X, _ = data
    seen = []
    est = small_neuncut(epochs=4, callback=seen.append, verbose=True).fit(X)
    assert [s["epoch"] for s in seen] == [1, 2, 3, 4]
    assert seen == est.history_
    err = capsys.readouterr().err
    assert "NeuNcut [" in err and "4/4" in err and "loss" in err


def test_callback_exception_propagates_unchanged(data):
    X, _ = data

    def boom(stats):
        if stats["epoch"] == 2:
            raise ZeroDivisionError("from the callback")

    with pytest.raises(ZeroDivisionError, match="from the callback"):
        small_neuncut(callback=boom).fit(X)


def test_callback_keyboard_interrupt_and_false(data):
    X, _ = data
    seen = []

    def interrupt(stats):
        seen.append(stats["epoch"])
        if stats["epoch"] == 3:
            raise KeyboardInterrupt

    est = small_neuncut(callback=interrupt)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X)
    assert seen == [1, 2, 3] and not hasattr(est, "labels_")
    with pytest.raises(KeyboardInterrupt, match="stopped by the caller at epoch 2"):
        small_neuncut(callback=lambda s: s["epoch"] < 2).fit(X)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_sigint_stops_a_long_fit(data):
    """A real SIGINT arriving while C++ trains (GIL released) stops it after the current epoch."""
    X, _ = data
    est = NeuNcut(n_clusters=3, epochs=100000, hidden=(16,), threads=1)
    # A process started in the background by a non-interactive shell inherits SIGINT as ignored,
    # and Python then installs no KeyboardInterrupt handler: install Python's own for the test.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            est.fit(X)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - start < 30
    assert not hasattr(est, "labels_")


def test_fit_releases_the_gil(data):
    """While a fit runs in another thread, this thread keeps running Python code."""
    X, _ = data
    stop_at = time.monotonic() + 0.6
    outcome = []

    def train():
        try:
            NeuNcut(n_clusters=3, epochs=100000, hidden=(64,), threads=1,
                    callback=lambda s: time.monotonic() < stop_at).fit(X)
        except KeyboardInterrupt as e:
            outcome.append(str(e))

    worker = threading.Thread(target=train)
    ticks = 0
    worker.start()
    while worker.is_alive():
        ticks += 1
        time.sleep(0.001)
    worker.join()
    assert outcome and "stopped by the caller" in outcome[0]
    # With the GIL held during the epochs this loop could run only between epochs.
    assert ticks > 100


# ---- images: scattering features ------------------------------------------------------------

def stripes(n, side, seed):
    """n images of stripes in three orientations (horizontal, vertical, diagonal) at random phases."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:side, 0:side].astype(np.float32)
    classes = np.arange(n) % 3
    images = np.empty((n, side, side), np.float32)
    for i, c in enumerate(classes):
        t = y if c == 0 else x if c == 1 else (x + y) * 0.7071
        images[i] = 0.5 + 0.4 * np.sin(1.5708 * t + rng.uniform(0, 6.2832)) + 0.1 * (rng.random((side, side)) - 0.5)
    return images, classes


def test_3d_images_are_clustered_by_their_scattering_transform(tmp_path):
    images, truth = stripes(300, 16, 4)
    model = small_neuncut(hidden=(32, 32)).fit(images)
    assert model.fit_info_["features"] == "scattering"
    assert model.fit_info_["feature_dim"] == 400
    assert model.n_features_in_ == 256
    assert neuncut.scores(truth, model.labels_)["acc"] >= 0.95
    flat = images.reshape(300, -1)
    np.testing.assert_array_equal(model.predict(images), model.predict(flat))  # the model holds the image shape
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(flat), model.labels_)
    # The same model from flat rows and the shape given explicitly (tuple or text).
    for shape in ((16, 16), "16x16"):
        np.testing.assert_array_equal(small_neuncut(hidden=(32, 32), image_shape=shape).fit(flat).labels_,
                                      model.labels_)
    assert small_neuncut(features="raw").fit(images).fit_info_["feature_dim"] == 256


def test_scattering_function_shapes_and_errors():
    images, _ = stripes(5, 28, 0)
    first = neuncut.scattering(images)
    assert first.shape == (5, 400) and first.dtype == np.float32
    second = neuncut.scattering(images, order=2, threads=1)
    assert second.shape == (5, 3472)
    np.testing.assert_array_equal(second[:, :400], first)
    assert neuncut.scattering(images, scales=2, angles=4).shape == (5, (1 + 8) * 64)  # grid 32, cells 8 x 8
    small, _ = stripes(5, 8, 0)  # 8 x 8: auto scales 2 (grid 8 -> padded 16, cells 4 x 4)
    np.testing.assert_array_equal(neuncut.scattering(small), neuncut.scattering(small, scales=2))
    with pytest.raises(ValueError, match="3-D"):
        neuncut.scattering(images.reshape(5, -1))
    with pytest.raises(ValueError, match="order"):
        neuncut.scattering(images, order=3)
    with pytest.raises(ValueError, match="image shape"):
        small_neuncut(image_shape="15x15").fit(images.reshape(5, -1))


# ---- quality check, recipe, model selection ----------------------------------------------

def test_quality_check_good_fit(data):
    X, y = data
    est = small_neuncut().fit(X)
    q = est.quality_
    assert q["verdict"] == "good" and q["what_to_try"] is None
    assert q["ncut"] < q["chance_ncut"] and q["sample_points"] == len(X)
    assert est.fit_info_["quality"] == q
    assert small_neuncut(quality_points=0).fit(X).quality_ == {"verdict": "not_checked"}


def test_quality_check_flags_a_fit_forced_onto_noise():
    # Twenty informative columns and one pure-noise column 10,000 times larger; told not to
    # scale or normalize, the model sees almost only the noise (issue 13's silent failure).
    rng = np.random.RandomState(11)
    y = np.arange(900) % 3
    X = rng.randn(900, 21).astype(np.float32)
    X[:, :20] += 6.0 * (np.arange(20)[None, :] % 3 == y[:, None])
    X[:, 20] *= 1e4
    with pytest.warns(neuncut.QualityWarning, match="kNN graph"):
        est = small_neuncut(scaling="none", normalize="none").fit(X)
    assert neuncut.scores(y, est.labels_)["acc"] < 0.6
    assert est.quality_["verdict"] in ("weak", "chance") and est.quality_["what_to_try"]


def test_table_geometry_is_chosen_by_the_eigengap_and_reported():
    # Iris: four lengths in cm, whose raw proportions carry the species; its raw L2 rows hold 3
    # clusters far more clearly than its standardized columns (docs/defaults.md).
    from sklearn.datasets import load_iris
    X, y = load_iris(return_X_y=True)
    est = NeuNcut(n_clusters=3, threads=1, random_state=0).fit(X)  # default network: 2 s
    info = est.fit_info_
    standardized, raw_l2 = info["geometry_eigengaps"]
    assert raw_l2 < 0.5 * standardized
    assert info["scaling"] == "none" and info["l2_normalized"] and not info["geometry_fallback"]
    assert neuncut.scores(y, est.labels_)["acc"] > 0.9
    # Asked for explicitly, the scaling is obeyed and nothing is compared.
    given = small_neuncut(n_clusters=3, scaling="standardize").fit(X)
    assert given.fit_info_["scaling"] == "standardize" and given.fit_info_["geometry_eigengaps"] == []


def test_recipe_paper_and_select_auto(data):
    X, y = data
    est = small_neuncut(recipe="paper", learning_rate=2e-3, epochs=5).fit(X)
    params = est._model.params()
    assert params["init"] == "random" and params["affinity"] == "gaussian" and params["sigma"] == "3"
    assert params["learning_rate"] == "0.002" and params["epochs"] == "5"  # given: kept
    with pytest.raises(ValueError, match="recipe"):
        small_neuncut(recipe="papers").fit(X)
    sel = small_neuncut(select="auto", select_candidates=2).fit(X)
    assert sel.fit_info_["selected_candidate"] in (0, 1) and len(sel.fit_info_["candidate_ncuts"]) == 2
    assert neuncut.scores(y, sel.labels_)["acc"] > 0.95


def test_threads_beyond_the_hardware_run_bounded_with_a_warning(data):
    """threads=10000 used to start 10,000 OpenMP threads; the core bounds it to the hardware
    threads and Python says so, as the CLI does."""
    X, _ = data
    with pytest.warns(UserWarning, match="hardware threads"):
        est = NeuNcut(n_clusters=3, epochs=2, hidden=(16,), threads=10000).fit(X)
    assert est.labels_.shape == (X.shape[0],)
