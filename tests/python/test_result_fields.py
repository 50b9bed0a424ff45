"""Every field of a C++ result table (core/result_fields.hpp) reaches Python: the estimators'
``fit_info_``, ``history_`` and attributes are rendered from the same table as the C++ struct."""
import numpy as np

from neuncut import KMeans, NeuNcut, SpectralClustering, SpectralNet, _core

from conftest import blobs


def names(result):
    return [f["name"] for f in _core.result_fields(result)]


def test_every_field_reaches_python():
    X, _ = blobs(n=200, k=3)
    seen = {}
    est = NeuNcut(n_clusters=3, epochs=2, hidden=(16,), threads=1, random_state=0).fit(X)
    seen["neuncut"] = set(est.fit_info_) | {"history"}
    seen["neuncut_epoch"] = set(est.history_[0])
    # The fields that never reached Python before the tables.
    assert est.fit_info_["threads"] == 1 and est.fit_info_["l2_normalized"] in (True, False)
    assert est.fit_info_["collapse_rollbacks"] == 0 and est.fit_info_["collapse"] == ""
    sn = SpectralNet(n_clusters=3, epochs=1, hidden=(16,), threads=1, random_state=0).fit(X)
    seen["spectralnet"] = set(sn.fit_info_) | {"history", "labels"}
    seen["spectralnet_epoch"] = set(sn.history_[0])
    km = KMeans(n_clusters=3, threads=1, random_state=0).fit(X)
    seen["kmeans"] = set(km.fit_info_) | {"labels", "inertia", "iterations"}
    sc = SpectralClustering(n_clusters=3, threads=1, random_state=0).fit(X)
    seen["ncut"] = set(sc.fit_info_) | {"labels", "embedding", "eigenvalues"}
    for result, keys in seen.items():
        missing = [n for n in names(result) if n not in keys]
        assert not missing, f"{result}: {missing} never reached Python"
    # Warnings are a list; message keeps the joined sentence of earlier versions.
    assert isinstance(km.fit_info_["warnings"], list)
    assert km.fit_info_["message"] == "; ".join(km.fit_info_["warnings"])
    assert sc.fit_info_["solver_status"] == "Successful"


def test_result_tables_name_their_types_and_choices():
    for result in ("neuncut", "neuncut_epoch", "spectralnet", "spectralnet_epoch", "kmeans", "ncut"):
        fields = _core.result_fields(result)
        assert len({f["name"] for f in fields}) == len(fields)
        assert all(f["doc"] and f["type"] for f in fields)
    status = [f for f in _core.result_fields("ncut") if f["name"] == "solver_status"][0]
    assert status["choices"] == ["Successful", "NotComputed", "NotConverging", "NumericalIssue"]
    features = [r for r in _core.param_table("neuncut") if r["name"] == "features"][0]
    assert features["choices"] == ["auto", "raw", "scattering"]
