"""Section `scale`: issue 14's targets, end to end at millions of rows, as a user would run them.

Images (--scale-images, default 1M, 5M, 10M): Fashion-MNIST-like uint8 images on disk (copy 0 is
Fashion-MNIST's 70,000 images; copy r >= 1 a shuffled copy with N(0, 8^2) grey-level noise,
rounded and clipped; written copy by copy, never whole in memory). Per N:
  - NeuNcut: one `fit --train-size T --labels-out` on the file, as a user runs it: it reads only
    its T random rows (and the quality check's sample), trains on them, then labels the whole
    file streamed, computing the scattering transform chunk by chunk. Reported: its wall and
    peak RSS, and the labelling rate N / the labelling time it reports (`predict_seconds`,
    scattering included).
  - Large-scale Ncut: `features` (streamed) then `ncut --solver landmark` on the features, which
    reads them whole (N x 400 float32).
  - k-means: `kmeans` on the same features.
Points (--scale-points, default 20M): 2-D Gaussian blobs (`neuncut generate`, 10 clusters); NeuNcut
as above, landmark Ncut and k-means on the points without L2 normalization (it would put every
2-D point on the unit circle).

Every command is timed on its own (proc.run: wall and peak RSS of its process tree) with the
run's time limit and memory cap; a method that fails at some N is not run at larger N."""
import os

import numpy as np

import datasets
import metrics
import proc

IMAGE_NOISE = 8.0  # grey levels (of 255): the jitter of the copies


def _images(workdir, n, seed, fm):
    """(path, labels path) of n Fashion-MNIST-like uint8 images, shape (n, 28, 28)."""
    X, y = fm
    pixels = np.clip(np.rint(X * 255.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    path = os.path.join(workdir, f"images_{n}.npy")
    labels_path = os.path.join(workdir, f"images_{n}_labels.npy")

    def jitter(block, rng):
        noisy = block.astype(np.float32) + rng.standard_normal(block.shape, dtype=np.float32) * IMAGE_NOISE
        return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)

    datasets.write_replicas(path, labels_path, n, pixels, y, seed, jitter)
    return path, labels_path


def _run(h, cmd, what, n):
    a = h.args
    r = proc.run(cmd, timeout=a.timeout, mem_cap_mb=h.mem_cap_mb)
    h.log(f"scale N {n:,} {what}: {r.status} wall {r.wall_seconds:.1f}s peak {r.peak_rss_mb:.0f} MB")
    return r


def _record(method, kind, n, steps, labels_path, labels_out, extra=None):
    rec = dict(method=method, kind=kind, n=n, steps=[dict(step=s, **r.as_dict()) for s, r in steps])
    bad = [r for _, r in steps if not r.ok]
    if bad:
        rec.update(status=bad[0].status, message=bad[0].message or bad[0].stderr_tail[-300:])
        return rec
    rec.update(status="ok", wall_seconds=sum(r.wall_seconds for _, r in steps),
               peak_rss_mb=max(r.peak_rss_mb for _, r in steps))
    try:
        rec.update(metrics.scores_from_files(labels_path, labels_out))
    except (OSError, ValueError) as e:
        rec.update(status="error", message=f"cannot score the labels: {e}")
    rec.update(extra or {})
    return rec


def _methods(h, kind, n, data, labels_path, features, state):
    """Runs NeuNcut, landmark Ncut and k-means on one data set; returns their records."""
    a, cli, t = h.args, h.neuncut, str(h.args.threads)
    w = h.workdir
    out = os.path.join(w, "labels.npy")
    recs = []
    for method in a.scale_methods:
        if method in state:
            recs.append(dict(method=method, kind=kind, n=n, status="skipped",
                             message=f"infeasible at N = {state[method]:,}"))
            continue
        if os.path.exists(out):
            os.remove(out)
        steps, extra = [], {}
        if method == "neuncut":
            steps.append(("fit", _run(h, [cli, "fit", "--data", data, "--k", a.k, "--train-size", a.train_size,
                                          "--seed", a.seed, "--threads", t, "--labels-out", out, "--json", "-q"],
                                      "NeuNcut fit and label", n)))
            label_s = steps[-1][1].summary.get("predict_seconds") if steps[-1][1].ok else None
            if label_s:
                extra.update(label_seconds=label_s, rows_per_second=n / label_s)
        else:
            source = features if features else data
            if kind == "images" and not os.path.exists(features):
                steps.append(("features", _run(h, [cli, "features", "--data", data, "--out", features, "--threads",
                                                   t, "--json"], "features", n)))
            if not steps or steps[-1][1].ok:
                extra_flags = ["--normalize", "false"] if kind == "points" else []
                if method == "ncut":
                    cmd = [cli, "ncut", "--data", source, "--k", a.k, "--solver", "landmark", "--seed", a.seed]
                else:
                    cmd = [cli, "kmeans", "--data", source, "--k", a.k, "--seed", a.seed]
                steps.append((method, _run(h, cmd + extra_flags + ["--threads", t, "--labels-out", out, "--json",
                                                                   "-q"], method, n)))
        rec = _record(method, kind, n, steps, labels_path, out, extra)
        if rec["status"] != "ok":
            state[method] = n
        recs.append(rec)
    if os.path.exists(out):
        os.remove(out)
    return recs


def run(h):
    a = h.args
    runs = []
    state = {}
    fm = h.store._fashion()
    for n in sorted(a.scale_images):
        h.log(f"scale images N {n:,}: writing the data")
        data, labels = _images(h.workdir, n, a.seed, fm)
        features = os.path.join(h.workdir, f"features_{n}.npy")
        runs += _methods(h, "images", n, data, labels, features, state)
        for p in (data, labels, features):
            if os.path.exists(p):
                os.remove(p)
    state = {}
    for n in sorted(a.scale_points):
        h.log(f"scale points N {n:,}: writing the data")
        data, labels = os.path.join(h.workdir, f"points_{n}.npy"), os.path.join(h.workdir, f"points_{n}_labels.npy")
        proc.run([h.neuncut, "generate", "--kind", "blobs", "-n", n, "--clusters", a.k, "--dim", 2, "--seed",
                  a.seed, "--out", data, "--labels-out", labels])
        runs += _methods(h, "points", n, data, labels, None, state)
        for p in (data, labels):
            if os.path.exists(p):
                os.remove(p)
    return dict(config=dict(images=sorted(a.scale_images), points=sorted(a.scale_points), methods=a.scale_methods,
                            threads=a.threads, train_size=a.train_size, seed=a.seed, timeout_s=a.timeout,
                            mem_cap_mb=h.mem_cap_mb, image_noise=IMAGE_NOISE, neuncut_run="fit-labels"),
                runs=runs)
