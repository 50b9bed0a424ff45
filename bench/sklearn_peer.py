#!/usr/bin/python3
"""scikit-learn baselines for the benchmark, one per process: SpectralClustering (Ncut on a
symmetric kNN connectivity graph, the eigenvectors by lobpcg or arpack, then k-means) and
KMeans (k-means++, n_init restarts), both on L2-normalized rows as neuncut's defaults.
The last stdout line is a JSON summary; labels go to --labels-out (.npy int32)."""
import argparse
import json
import os
import sys
import time

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("method", choices=("spectral", "kmeans"))
    ap.add_argument("--X", required=True, help="features, .npy (2-D)")
    ap.add_argument("--k", type=int, default=10, help="clusters (default 10)")
    ap.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    ap.add_argument("--threads", type=int, default=2, help="n_jobs and the BLAS/OpenMP thread limit (default 2)")
    ap.add_argument("--n-neighbors", type=int, default=10, help="spectral: kNN graph degree (default 10)")
    ap.add_argument("--eigen-solver", default="lobpcg", choices=("lobpcg", "arpack", "amg"),
                    help="spectral: eigen-solver (default lobpcg)")
    ap.add_argument("--n-init", type=int, default=10, help="kmeans: restarts (default 10)")
    ap.add_argument("--labels-out", required=True, help="where to write the labels (.npy)")
    a = ap.parse_args(argv)

    from sklearn.cluster import KMeans, SpectralClustering
    import sklearn
    from threadpoolctl import threadpool_info, threadpool_limits

    t0 = time.perf_counter()
    try:
        X = np.load(a.X)
    except (OSError, ValueError) as e:
        sys.exit(f"sklearn_peer: cannot read {a.X}: {e}")
    if X.ndim != 2 or X.shape[0] <= a.k:
        sys.exit(f"sklearn_peer: {a.X} must be 2-D with more than k = {a.k} rows, got shape {X.shape}")
    X = X.astype(np.float32, copy=False)
    X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    load_s = time.perf_counter() - t0
    if a.method == "spectral":
        model = SpectralClustering(n_clusters=a.k, affinity="nearest_neighbors", n_neighbors=a.n_neighbors,
                                   eigen_solver=a.eigen_solver, assign_labels="kmeans", random_state=a.seed,
                                   n_jobs=a.threads)
        settings = dict(affinity="nearest_neighbors", n_neighbors=a.n_neighbors, eigen_solver=a.eigen_solver,
                        assign_labels="kmeans")
    else:
        model = KMeans(n_clusters=a.k, n_init=a.n_init, random_state=a.seed)
        settings = dict(n_init=a.n_init, init="k-means++")
    with threadpool_limits(limits=a.threads):
        t = time.perf_counter()
        labels = model.fit_predict(X)
        fit_s = time.perf_counter() - t
        pools = [{k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                 for p in threadpool_info()]
    np.save(a.labels_out, labels.astype(np.int32))
    print(json.dumps(dict(method=f"sklearn_{a.method}", n=int(X.shape[0]), d=int(X.shape[1]), k=a.k, seed=a.seed,
                          threads=a.threads, sklearn=sklearn.__version__, settings=settings, load_seconds=load_s,
                          fit_seconds=fit_s, total_seconds=time.perf_counter() - t0, blas=pools,
                          openblas_coretype=os.environ.get("OPENBLAS_CORETYPE"), labels_out=a.labels_out)))


if __name__ == "__main__":
    main()
