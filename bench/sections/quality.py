"""Section `quality` (issue 13): clustering quality over the quality suite, Fashion-MNIST and
synthetic sets, seeds --quality-seeds, every method with its defaults:

  neuncut                 `neuncut fit` (images: on their scattering features, its default)
  ncut, kmeans            `neuncut ncut` / `neuncut kmeans` on the rows as given (raw features)
  ncut-scattering,        the same on the scattering features `neuncut features` writes (image
  kmeans-scattering       sets only): the features NeuNcut itself sees
  sklearn-spectral        scikit-learn SpectralClustering (nearest_neighbors, 10 neighbours,
                          lobpcg: the configuration bench/ uses everywhere), raw features;
                          skipped above --quality-sklearn-max-n rows (reason recorded)
  spectralnet             `neuncut spectralnet` (images: scattering features, its default)

Data: scripts/quality-datasets.py writes the suite into --quality-data (it is run for the sets
that are not there yet; its sets.json describes each). A run that fails (error, time-out,
memory cap) is recorded with its message and the section goes on. Every record holds ACC/NMI/ARI
(computed here from the labels), wall and compute time, clusters used and a collapse flag (a
cluster left empty, or neuncut's own collapse report)."""
import dataclasses
import json
import os
import statistics
import subprocess
import sys

import datasets
import methods
import stats

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_SCRIPT = os.path.join(REPO, "scripts", "quality-datasets.py")
FASHION = "fashion-mnist"

# The NeuNcut run is compared with the better of these on the features it trains on.
REFERENCES = ("ncut", "kmeans")


def suite_names():
    """Every set scripts/quality-datasets.py knows, in its order."""
    r = subprocess.run([sys.executable, DATA_SCRIPT, "--list"], capture_output=True, text=True, check=True)
    return r.stdout.split()


def default_sets():
    try:
        return suite_names() + [FASHION]
    except (OSError, subprocess.CalledProcessError):
        return [FASHION]


ALL_METHODS = ("neuncut", "ncut", "kmeans", "ncut-scattering", "kmeans-scattering", "sklearn-spectral", "spectralnet")


def method_list(record, only=None):
    """The methods run on one set (those of `only`, when given): the image sets get Ncut and
    k-means on both feature kinds."""
    names = ["neuncut", "ncut", "kmeans"]
    if record.get("image_shape"):
        names += ["ncut-scattering", "kmeans-scattering"]
    names += ["sklearn-spectral", "spectralnet"]
    return [n for n in names if only is None or n in only]


def prepare_data(h, wanted):
    """Writes the suite sets missing from --quality-data; returns (records by name, {name: why missing})."""
    a = h.args
    folder = a.quality_data
    manifest = os.path.join(folder, "sets.json")

    def read():
        if not os.path.exists(manifest):
            return {}
        with open(manifest) as f:
            recs = {r["name"]: r for r in json.load(f)["sets"]}
        return {n: r for n, r in recs.items() if os.path.exists(os.path.join(folder, r["features"]))
                and os.path.exists(os.path.join(folder, r["labels"]))}

    records = read()
    missing = [n for n in wanted if n != FASHION and n not in records]
    why = {}
    if missing:
        h.log(f"quality: writing data set(s) {', '.join(missing)} into {folder}")
        r = subprocess.run([sys.executable, DATA_SCRIPT, "--out", folder, "--neuncut", a.neuncut,
                            "--sets", ",".join(missing)], capture_output=True, text=True)
        records = read()
        for n in missing:
            if n not in records:
                lines = [l for l in r.stderr.splitlines() if l.startswith(f"quality-datasets: {n}:")]
                why[n] = lines[0] if lines else f"not written (exit {r.returncode}): {r.stderr.strip()[-300:]}"
    return records, why


def suite_dataset(folder, rec):
    return datasets.DataSet(rec["name"], os.path.join(folder, rec["features"]), os.path.join(folder, rec["labels"]),
                            rec["n"], rec["d"], os.path.join(folder, rec["features"]),
                            f"{rec['name']} ({rec['source']})", rec.get("image_shape", ""))


def fashion_record(ds):
    return dict(name=FASHION, n=ds.n, d=ds.d, k=10, kind="image", image_shape="28x28",
                source="dataset-fashion-mnist", note=ds.description, imbalance=1.0, constant_features=None)


def collapsed(rec, k):
    """A run collapsed when a cluster is empty or neuncut reported a collapse."""
    if rec.get("status") != "ok":
        return None
    return bool(rec.get("details", {}).get("collapse")) or rec.get("clusters_used", k) < k


def run_one(h, name, ds, cfg, seed, timeout):
    rec = methods.run_method(name, ds, h.workdir, cfg, {}, seed, timeout, h.mem_cap_mb)
    rec["seed"] = seed
    # neuncut fit's and neuncut spectralnet's default
    default = "scattering" if name in ("neuncut", "spectralnet") and ds.image_shape else "raw"
    rec["features"] = "scattering" if methods.on_scattering(name) else (
        rec.get("details", {}).get("features") or default)
    rec["collapsed"] = collapsed(rec, cfg.k)
    return rec


def summarize(runs, records, wanted):
    """Per set and method: mean, std, min, max of the scores over seeds; time; collapses."""
    out = []
    for set_name in wanted:
        for name in dict.fromkeys(r["method"] for r in runs if r["data_set"] == set_name):
            mine = [r for r in runs if r["data_set"] == set_name and r["method"] == name]
            ok = [r for r in mine if r["status"] == "ok"]
            row = dict(data_set=set_name, method=name, label=methods.METHODS[name][0], runs=len(mine),
                       runs_ok=len(ok), features=ok[0]["features"] if ok else mine[0].get("features"),
                       collapses=sum(1 for r in ok if r["collapsed"]),
                       failures=sorted({f"{r['status']}: {r.get('message', '')}".strip(": ") for r in mine
                                        if r["status"] not in ("ok",)}))
            for key in ("acc", "nmi", "ari"):
                v = [r[key] for r in ok if r.get(key) is not None]
                row[key] = dict(mean=statistics.fmean(v) if v else None,
                                std=statistics.pstdev(v) if len(v) > 1 else (0.0 if v else None),
                                min=min(v) if v else None, max=max(v) if v else None, n=len(v))
            row["wall_seconds"] = stats.summarize(r.get("wall_seconds") for r in ok)
            row["compute_seconds"] = stats.summarize(r.get("compute_seconds") for r in ok)
            out.append(row)
    return out


def compare(summary, wanted):
    """NeuNcut against the better of Ncut and k-means on the features NeuNcut used, per metric."""
    rows = []
    for set_name in wanted:
        by = {r["method"]: r for r in summary if r["data_set"] == set_name}
        nn = by.get("neuncut")
        if not nn or not nn["runs_ok"]:
            rows.append(dict(data_set=set_name, status="no NeuNcut result"))
            continue
        suffix = "-scattering" if nn["features"] == "scattering" else ""
        refs = [by.get(m + suffix) for m in REFERENCES]
        refs = [r for r in refs if r and r["runs_ok"]]
        row = dict(data_set=set_name, status="ok" if refs else "no reference result", features=nn["features"],
                   neuncut_collapses=nn["collapses"], neuncut_runs=nn["runs_ok"])
        for key in ("acc", "nmi", "ari"):
            mine = nn[key]["mean"]
            best = max(refs, key=lambda r: r[key]["mean"]) if refs else None
            row[key] = dict(neuncut=mine, best=best[key]["mean"] if best else None,
                            best_method=best["method"] if best else None,
                            delta=(mine - best[key]["mean"]) if best else None)
        rows.append(row)
    return rows


def run(h):
    a = h.args
    wanted = list(dict.fromkeys(a.quality_sets or default_sets()))
    records, missing = prepare_data(h, wanted)
    for n, why in missing.items():
        h.log(f"quality: {n}: skipped: {why}")
    base = h.method_config()
    runs = []
    data_sets = {}
    for set_name in wanted:
        if set_name in missing:
            continue
        if set_name == FASHION:
            ds = h.store.fashion(a.quality_fmnist_rows)
            rec = fashion_record(ds)
        else:
            rec = records[set_name]
            ds = suite_dataset(a.quality_data, rec)
        data_sets[set_name] = rec
        scattering = None
        for seed in a.quality_seeds:
            cfg = dataclasses.replace(base, seed=seed, k=rec["k"])
            for name in method_list(rec, a.quality_methods):
                if name == "sklearn-spectral" and ds.n > a.quality_sklearn_max_n:
                    r = dict(method=name, label=methods.METHODS[name][0], data=ds.name, n=ds.n, rep=seed, seed=seed,
                             status="skipped", features="raw",
                             message=f"N = {ds.n:,} > --quality-sklearn-max-n {a.quality_sklearn_max_n:,} "
                                     "(its dense-solver fallbacks and kNN graph take too long on 2 cores)")
                else:
                    data = ds
                    if methods.on_scattering(name):
                        try:
                            scattering = scattering or h.store.scattering(ds, h.neuncut, a.threads)
                        except (subprocess.CalledProcessError, OSError) as e:
                            scattering = None
                            r = dict(method=name, label=methods.METHODS[name][0], data=ds.name, n=ds.n, rep=seed,
                                     seed=seed, status="error", features="scattering",
                                     message=f"neuncut features failed: {e}")
                            r["data_set"] = set_name
                            runs.append(r)
                            continue
                        data = scattering
                    r = run_one(h, name, data, cfg, seed, a.timeout)
                r["data_set"] = set_name
                runs.append(r)
                h.partial_section = finish(a, runs, data_sets, missing, records, interrupted=True)
                h.log(f"quality {set_name} seed {seed} {name:18s}: " +
                      (f"ACC {r['acc']:.4f} NMI {r['nmi']:.4f} ARI {r['ari']:.4f} wall {r['wall_seconds']:.1f}s"
                       + (" COLLAPSED" if r["collapsed"] else "")
                       if r["status"] == "ok" else f"{r['status']} {r.get('message', '')}"))
        if scattering is not None and not a.keep_data:
            h.store.drop(scattering)
    h.partial_section = None
    return finish(a, runs, data_sets, missing, records)


def finish(a, runs, data_sets, missing, suite, interrupted=False):
    """The section's result from the runs so far (also kept after every run, so that an
    interrupted section still saves what it measured)."""
    done = [n for n in data_sets if any(r["data_set"] == n for r in runs)]
    summary = summarize(runs, data_sets, done)
    out = dict(config=dict(sets=done, missing=missing, seeds=a.quality_seeds, threads=a.threads,
                           train_size=a.train_size, timeout_s=a.timeout, data_folder=a.quality_data,
                           sklearn_max_n=a.quality_sklearn_max_n, fmnist_rows=a.quality_fmnist_rows,
                           references=list(REFERENCES), methods=a.quality_methods),
               data_sets={n: data_sets[n] for n in done}, suite=list(suite.values()), runs=runs, summary=summary, comparison=compare(summary, done))
    if interrupted:
        out["interrupted"] = True
    return out
