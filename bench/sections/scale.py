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
    it streams too (a block of rows at a time, once per pass).
  - k-means: `kmeans` on the same features, which it streams too above its 200,000-row sample
    (restarts on the sample, then one pass over all rows per Lloyd iteration).
Points (--scale-points, default 20M): 2-D Gaussian blobs (`neuncut generate`, 10 clusters); NeuNcut
as above, landmark Ncut and k-means on the points without L2 normalization (it would put every
2-D point on the unit circle).

Reference for the Ncut target (with ncut among the methods): exact Ncut (`--solver exact`) on the
scattering features of the 70,000 Fashion-MNIST originals, the rows copy 0 holds.
MPI (--scale-mpi-ranks, default 1 and 2, at the smallest image count): `mpirun -np R neuncut
predict` with the model the one-process fit wrote, its labels compared byte for byte with that
fit's; for R > 1 also `mpirun -np R neuncut fit` (data-parallel training), its ACC against the
one-process fit's. Each rank runs one thread when R >= --threads, as docs/mpi.md advises.
--scale-kmeans-images-max skips kmeans on larger image files (a shorter run).

Every command is timed on its own (proc.run: wall and peak RSS of its process tree) with the
run's time limit and memory cap; a method that fails at some N is not run at larger N."""
import filecmp
import os
import shutil
import subprocess

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


def _methods(h, kind, n, data, labels_path, features, state, keep=None):
    """Runs NeuNcut, landmark Ncut and k-means on one data set; returns their records. With `keep`
    (a dict), NeuNcut's model and labels are kept at keep["model"] and keep["labels"]."""
    a, cli, t = h.args, h.neuncut, str(h.args.threads)
    w = h.workdir
    out = os.path.join(w, "labels.npy")
    recs = []
    for method in a.scale_methods:
        if method in state:
            recs.append(dict(method=method, kind=kind, n=n, status="skipped",
                             message=f"infeasible at N = {state[method]:,}"))
            continue
        cap = a.scale_kmeans_images_max
        if method == "kmeans" and kind == "images" and cap is not None and n > cap:
            recs.append(dict(method=method, kind=kind, n=n, status="skipped",
                             message=f"not run above {cap:,} images (--scale-kmeans-images-max)"))
            continue
        if os.path.exists(out):
            os.remove(out)
        steps, extra = [], {}
        if method == "neuncut":
            model = ["--model", keep["model"]] if keep is not None else []
            steps.append(("fit", _run(h, [cli, "fit", "--data", data, "--k", a.k, "--train-size", a.train_size,
                                          "--seed", a.seed, "--threads", t, "--labels-out", out, "--json", "-q"]
                                      + model, "NeuNcut fit and label", n)))
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
                done = steps[-1][1]
                if method == "kmeans" and done.ok and "sample_rows" in done.summary:
                    extra.update({key: done.summary.get(key) for key in ("sample_rows", "full_passes", "streamed")})
        rec = _record(method, kind, n, steps, labels_path, out, extra)
        if rec["status"] != "ok":
            state[method] = n
        elif method == "neuncut" and keep is not None:
            shutil.copyfile(out, keep["labels"])
        recs.append(rec)
    if os.path.exists(out):
        os.remove(out)
    return recs


def _exact_ncut_reference(h, fm):
    """Exact Ncut on the scattering features of the 70,000 originals: the record the landmark
    solver's ACC is judged against."""
    a, cli, t, w = h.args, h.neuncut, str(h.args.threads), h.workdir
    X, y = fm
    data, labels = os.path.join(w, "originals.npy"), os.path.join(w, "originals_labels.npy")
    features, out = os.path.join(w, "originals_features.npy"), os.path.join(w, "originals_ncut.npy")
    np.save(data, np.clip(np.rint(X * 255.0), 0, 255).astype(np.uint8).reshape(-1, 28, 28))
    np.save(labels, np.asarray(y, dtype=np.int32))
    steps = [("features", _run(h, [cli, "features", "--data", data, "--out", features, "--threads", t, "--json"],
                               "features of the originals", len(y)))]
    if steps[-1][1].ok:
        steps.append(("ncut", _run(h, [cli, "ncut", "--data", features, "--k", a.k, "--solver", "exact", "--seed",
                                       a.seed, "--threads", t, "--labels-out", out, "--json", "-q"],
                                   "exact Ncut on the originals", len(y))))
    rec = _record("ncut-exact", "images", len(y), steps, labels, out)
    for p in (data, labels, features, out):
        if os.path.exists(p):
            os.remove(p)
    return rec


def _mpi_available(h):
    """None when MPI runs can go ahead, else why not."""
    if shutil.which("mpirun") is None:
        return "mpirun not found (Debian's openmpi-bin)"
    try:
        version = subprocess.run([h.neuncut, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as e:
        return f"cannot run {h.neuncut} --version: {e}"
    return None if "MPI: yes" in version else "this neuncut was built without MPI (`neuncut --version`)"


def _mpi_runs(h, n, data, labels_path, keep, one_process):
    """`mpirun -np R` predict (and, R > 1, fit) against the one-process fit `one_process` (its
    record); returns the records."""
    a, cli = h.args, h.neuncut
    ranks = [r for r in a.scale_mpi_ranks if r > 0]
    if not ranks:
        return []
    why = _mpi_available(h)
    if why is None and (one_process is None or one_process["status"] != "ok"):
        why = "the one-process NeuNcut fit it is compared with did not run"
    if why is not None:
        return [dict(method="neuncut-mpi", kind="images", n=n, ranks=r, status="skipped", message=why)
                for r in ranks]
    out = os.path.join(h.workdir, "labels_mpi.npy")
    recs = []
    for r in ranks:
        # Open MPI binds each rank to one core when np <= 2: a rank of two threads would run them
        # on one core (measured: 1M images labelled in 33 s by one rank of 2 threads, against 16 s
        # unbound), so the ranks are left to the scheduler.
        mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", r]
        threads = str(max(1, a.threads // r))
        for what in ("predict", "fit") if r > 1 else ("predict",):
            if os.path.exists(out):
                os.remove(out)
            if what == "predict":
                cmd = [cli, "predict", "--model", keep["model"], "--data", data]
            else:
                cmd = [cli, "fit", "--data", data, "--k", a.k, "--train-size", a.train_size, "--seed", a.seed]
            res = _run(h, mpirun + cmd + ["--threads", threads, "--labels-out", out, "--json", "-q"],
                       f"NeuNcut {what} on {r} MPI ranks", n)
            extra = dict(ranks=r, threads_per_rank=int(threads))
            if res.ok and what == "predict":
                label_s = res.summary.get("predict_seconds")
                if label_s:
                    extra.update(label_seconds=label_s, rows_per_second=n / label_s)
                extra.update(identical_to_one_process=filecmp.cmp(out, keep["labels"], shallow=False))
            elif res.ok:
                extra.update(one_process_acc=one_process["acc"], one_process_nmi=one_process["nmi"])
            recs.append(_record(f"neuncut-mpi-{what}", "images", n, [(what, res)], labels_path, out, extra))
    if os.path.exists(out):
        os.remove(out)
    return recs


def run(h):
    a = h.args
    runs = []
    state = {}
    fm = h.store._fashion()
    if "ncut" in a.scale_methods and a.scale_images:
        runs.append(_exact_ncut_reference(h, fm))
    for i, n in enumerate(sorted(a.scale_images)):
        h.log(f"scale images N {n:,}: writing the data")
        data, labels = _images(h.workdir, n, a.seed, fm)
        features = os.path.join(h.workdir, f"features_{n}.npy")
        mpi = i == 0 and "neuncut" in a.scale_methods and any(r > 0 for r in a.scale_mpi_ranks)
        keep = dict(model=os.path.join(h.workdir, "model.nnc"), labels=os.path.join(h.workdir, "labels_1.npy")) \
            if mpi else None
        recs = _methods(h, "images", n, data, labels, features, state, keep)
        runs += recs
        if mpi:
            one = next((r for r in recs if r["method"] == "neuncut"), None)
            runs += _mpi_runs(h, n, data, labels, keep, one)
        for p in [data, labels, features] + (list(keep.values()) if keep else []):
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
                            kmeans_images_max=a.scale_kmeans_images_max, mpi_ranks=a.scale_mpi_ranks,
                            threads=a.threads, train_size=a.train_size, seed=a.seed, timeout_s=a.timeout,
                            mem_cap_mb=h.mem_cap_mb, image_noise=IMAGE_NOISE, neuncut_run="fit-labels"),
                runs=runs)
