"""The clustering methods the end-to-end and scaling sections run: how to call each one (its
own process, labels written to a file) and how to read its result into one common record.
Scores (ACC/NMI/ARI) are always computed by the benchmark from the labels file; neuncut's
self-reported scores are kept beside them as a cross-check."""
import math
import os
import re
from dataclasses import dataclass

import metrics
import proc

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))

# name -> (label in reports, implementation)
# Methods named "<method>-scattering" run <method> on the scattering features of the data set
# (written by `neuncut features`), the features neuncut fit uses for images by default: they
# separate what the features contribute from what the method does.
METHODS = {
    "neuncut": ("neuncut NeuNcut", "neuncut fit (images: scattering features)"),
    "neuncut-pixels": ("neuncut NeuNcut, pixels", "neuncut fit --features raw"),
    "torch-neuncut": ("PyTorch NeuNcut, pixels", "bench/torch_neuncut.py fit"),
    "ncut": ("neuncut Ncut", "neuncut ncut"),
    "ncut-scattering": ("neuncut Ncut, scattering features", "neuncut ncut on neuncut features"),
    "kmeans": ("neuncut k-means", "neuncut kmeans"),
    "spectralnet": ("neuncut SpectralNet", "neuncut spectralnet"),
    "sklearn-spectral": ("scikit-learn SpectralClustering", "bench/sklearn_peer.py spectral"),
    "sklearn-kmeans": ("scikit-learn KMeans", "bench/sklearn_peer.py kmeans"),
    "sklearn-kmeans-scattering": ("scikit-learn KMeans, scattering features",
                                  "bench/sklearn_peer.py kmeans on neuncut features"),
    "kmeans-scattering": ("neuncut k-means, scattering features", "neuncut kmeans on neuncut features"),
}
# Methods the quality section adds; the e2e section's default list leaves them out.
QUALITY_ONLY = ("kmeans-scattering",)


def on_scattering(name):
    """Whether method `name` runs on the data set's scattering features."""
    return name.endswith("-scattering")


@dataclass
class Config:
    neuncut: str                 # path of the CLI
    python: str                  # interpreter for the peers
    threads: int                 # neuncut and scikit-learn threads
    torch_threads: int           # PyTorch peer threads
    seed: int = 0
    k: int = 10
    train_size: int = 20000      # NeuNcut training sample (neuncut and the PyTorch peer)
    epochs: int = 0              # NeuNcut epochs; 0: neuncut's automatic rule
    batch_size: int = 1000
    spectralnet_epochs: int = 0  # 0: neuncut's default
    coretype: str = ""           # OPENBLAS_CORETYPE for the Python peers ("": unset; run.py resolves --coretype)


def peer_env(threads, coretype):
    """Environment of a Python peer: BLAS and OpenMP pinned to `threads`, the OpenBLAS kernel set forced."""
    env = os.environ.copy()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    return env


def env_delta(env):
    """The variables a child's environment sets differently from ours (recorded with each run)."""
    if env is None:
        return {}
    return {k: v for k, v in env.items() if os.environ.get(k) != v}


def neuncut_auto_epochs(train_points, batch_size):
    """neuncut's rule for epochs 0: at least 50 epochs and at least 500 steps."""
    steps = max(1, train_points // max(1, min(batch_size, train_points)))
    return max(50, -(-500 // steps))


def command(name, ds, labels_out, cfg, state):
    """(argv, env) of one run of method `name` on data set `ds`. `state` carries what one
    method hands to the next in the same repetition (neuncut's sigma and epochs, so that the
    PyTorch peer trains with exactly the same settings)."""
    threads = str(cfg.threads)
    if on_scattering(name):
        name = name[:-len("-scattering")]  # the same command on the features data set
    if name in ("neuncut", "neuncut-pixels"):
        cmd = [cfg.neuncut, "fit", *ds.neuncut_args(), "--k", cfg.k, "--seed", cfg.seed, "--threads", threads,
               "--train-size", cfg.train_size, "--labels-out", labels_out, "--json"]
        if ds.image_shape:
            cmd += ["--image-shape", ds.image_shape]
        if name == "neuncut-pixels":
            cmd += ["--features", "raw"]
        if cfg.epochs > 0:
            cmd += ["--epochs", cfg.epochs]
        return cmd, None
    if name == "torch-neuncut":
        # The peer trains on pixels: it takes sigma and epochs from neuncut's run on pixels.
        train_points = min(cfg.train_size, ds.n) if cfg.train_size > 0 else ds.n
        epochs = state.get("neuncut_epochs") or cfg.epochs or neuncut_auto_epochs(train_points, cfg.batch_size)
        sigma = state.get("neuncut_sigma", 0.0)
        cmd = [cfg.python, os.path.join(BENCH_DIR, "torch_neuncut.py"), "fit", "--X", ds.path, "--k", cfg.k,
               "--seed", cfg.seed, "--threads", cfg.torch_threads, "--train-size", cfg.train_size,
               "--epochs", epochs, "--batch-size", min(cfg.batch_size, train_points), "--sigma", repr(sigma),
               "--lr", "0.001", "--weight-decay", "0.0001", "--gamma", "80", "--chunk-rows", "10000",
               "--labels-out", labels_out]
        return cmd, peer_env(cfg.torch_threads, cfg.coretype)
    if name in ("ncut", "kmeans", "spectralnet"):
        cmd = [cfg.neuncut, name, *ds.neuncut_args(), "--k", cfg.k, "--seed", cfg.seed, "--threads", threads,
               "--labels-out", labels_out, "--json"]
        if name == "spectralnet" and cfg.spectralnet_epochs > 0:
            cmd += ["--epochs", cfg.spectralnet_epochs]
        if name == "spectralnet" and ds.image_shape:  # its features auto: scattering, as neuncut fit
            cmd += ["--image-shape", ds.image_shape]
        return cmd, None
    if name in ("sklearn-spectral", "sklearn-kmeans"):
        cmd = [cfg.python, os.path.join(BENCH_DIR, "sklearn_peer.py"), name.split("-")[1], "--X", ds.path,
               "--k", cfg.k, "--seed", cfg.seed, "--threads", threads, "--labels-out", labels_out]
        if name == "sklearn-spectral":
            cmd += ["--n-neighbors", "10", "--eigen-solver", "lobpcg"]
        else:
            cmd += ["--n-init", "10"]
        return cmd, peer_env(cfg.threads, cfg.coretype)
    raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}")


_LOADED = re.compile(r"loaded in ([0-9.]+)s")


def compute_seconds(name, summary, stderr):
    """The method's own timing of its work (data loading excluded where it can be), and what it covers."""
    s = summary
    if name.startswith("neuncut"):
        m = _LOADED.search(stderr or "")
        load = float(m.group(1)) if m else 0.0
        if "total_seconds" in s:
            return s["total_seconds"] - load, ("sigma, train and label (total_seconds less the load time "
                                               "printed at 0.1 s resolution)" if m else "total_seconds (incl. load)")
    if name == "torch-neuncut" and "train_seconds" in s:
        return s.get("sigma_seconds", 0) + s["train_seconds"] + s.get("predict_seconds", 0), "sigma, train and label"
    if "fit_seconds" in s:
        return s["fit_seconds"], "fit_seconds"
    return None, None


def run_method(name, ds, workdir, cfg, state, rep, timeout, mem_cap_mb):
    """Runs one method once; returns its record (and updates `state` after a neuncut fit)."""
    labels_out = os.path.join(workdir, f"labels_{name}_{ds.name}_r{rep}.npy")
    if os.path.exists(labels_out):
        os.remove(labels_out)
    cmd, env = command(name, ds, labels_out, cfg, state)
    r = proc.run(cmd, env=env, timeout=timeout, mem_cap_mb=mem_cap_mb)
    rec = dict(method=name, label=METHODS[name][0], data=ds.name, n=ds.n, rep=rep, **r.as_dict())
    rec["env"] = env_delta(env)
    s = r.summary
    if r.ok and not s:
        rec.update(status="error", message="no JSON summary on stdout")
    if rec["status"] == "ok":
        secs, what = compute_seconds(name, s, r.stderr)
        rec.update(compute_seconds=secs, compute_covers=what)
        keep = ("train_seconds", "predict_seconds", "seconds_per_epoch", "epochs", "sigma", "train_points",
                "features", "feature_dim", "features_seconds",
                "knn_seconds", "eigen_seconds", "kmeans_seconds", "fit_seconds", "total_seconds", "load_seconds",
                "converged", "collapse", "clusters_used", "knn_method", "warning", "blas", "openblas_coretype")
        rec["details"] = {k: s[k] for k in keep if k in s}
        if name in ("neuncut", "neuncut-pixels", "ncut", "ncut-scattering", "kmeans", "spectralnet"):
            rec["self_reported"] = {k: s.get(k) for k in ("acc", "nmi", "ari")}
        if name == "neuncut-pixels" or (name == "neuncut" and s.get("features") == "raw"):
            state["neuncut_sigma"] = s.get("sigma")
            state["neuncut_epochs"] = s.get("epochs")
        try:
            rec.update(metrics.scores_from_files(ds.labels_path, labels_out))
        except (OSError, ValueError) as e:
            rec.update(status="error", message=f"cannot score the labels: {e}")
        if rec.get("self_reported", {}).get("acc") is not None and "acc" in rec:
            rec["self_reported_agrees"] = all(
                math.isclose(rec[k], rec["self_reported"][k], abs_tol=2e-4) for k in ("acc", "nmi", "ari"))
    if os.path.exists(labels_out):
        os.remove(labels_out)
    return rec
