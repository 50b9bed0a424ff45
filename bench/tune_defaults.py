#!/usr/bin/python3
"""Quality of NeuNcut's settings across many data sets, against classic Ncut and k-means on the
same features (issue 13). Runs the CLI, so it measures what a user gets.

  nice /usr/bin/python3 bench/tune_defaults.py --configs default,knn --seeds 0,1,2
  nice /usr/bin/python3 bench/tune_defaults.py --sets digits,wine --configs default --extra "--epochs 20"

Data: the quality suite's sets (--qdata DIR holding sets.json, written by
scripts/quality-datasets.py), else scikit-learn's bundled sets; Fashion-MNIST with --sets
fashion-mnist (slow). Image sets get --image-shape (so NeuNcut trains on scattering features).
Tabular sets are given as they come (raw units): the defaults must cope. The references (Ncut
and k-means) get the z-scored features (constant columns zero), the better of L2-normalized rows
or not (each method's own choice would be unfair to it on low-dimensional data).
Results are cached in --cache (JSON lines keyed by binary, set, method, flags and seed), so a
rerun only computes what is new. Prints one Markdown table: mean over seeds of ACC / NMI, the
number of collapsed runs, and the reference."""
import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Named NeuNcut flag sets compared by --configs.
CONFIGS = {
    "default": [],
    "paper": ["--recipe", "paper"],
    "knn": ["--affinity", "knn"],
    "gauss": ["--affinity", "gaussian"],
    "select": ["--select", "auto"],
}


def zscore(x):
    mu = x.mean(0)
    sd = x.std(0)
    sd[sd == 0] = 1
    return ((x - mu) / sd).astype(np.float32)


def prepare(data_dir, qdata):
    """The suite: every set of <qdata>/sets.json (the quality suite's converter), else
    scikit-learn's bundled sets. Writes <data_dir>/<name>.npy, _y.npy and _z.npy (z-scored);
    returns {name: (k, image_shape)}."""
    os.makedirs(data_dir, exist_ok=True)
    found = []
    index = os.path.join(qdata or "", "sets.json")
    if qdata and os.path.exists(index):
        with open(index) as f:
            for r in json.load(f)["sets"]:
                found.append((r["name"], lambda r=r: (np.load(os.path.join(qdata, r["features"])),
                                                      np.load(os.path.join(qdata, r["labels"]))),
                              r.get("image_shape") or ""))
    else:
        from sklearn import datasets as skd
        for name, loader in [("digits8", skd.load_digits), ("wine", skd.load_wine),
                             ("breast_cancer", skd.load_breast_cancer), ("iris", skd.load_iris)]:
            found.append((name, lambda loader=loader: loader(return_X_y=True), "8x8" if name == "digits8" else ""))
    sets = {}
    for name, load, shape in found:
        p = os.path.join(data_dir, name)
        if not os.path.exists(p + "_z.npy"):
            x, y = load()
            x = np.ascontiguousarray(x, dtype=np.float32)
            y = np.unique(np.asarray(y), return_inverse=True)[1].astype(np.int32)
            np.save(p + ".npy", x)
            np.save(p + "_y.npy", y)
            np.save(p + "_z.npy", zscore(x))
        sets[name] = (int(np.load(p + "_y.npy").max()) + 1, shape)
    sets["fashion-mnist"] = (10, "28x28")
    return sets


def run_cli(args, cache, key, cached_only=False):
    if key in cache:
        return cache[key]
    if cached_only:
        return {"error": "not run"}
    proc = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        out = {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc {proc.returncode}"}
    else:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    cache[key] = out
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="iris,wine,glass,pima,vowel,vehicle,breast_cancer,digits8,segment",
                    help="comma-separated set names, or 'all' (Fashion-MNIST included)")
    ap.add_argument("--configs", default="default", help="comma-separated config names (%s) or raw:FLAGS" %
                    ", ".join(CONFIGS))
    ap.add_argument("--extra", default="", help="flags added to every NeuNcut run (e.g. '--epochs 20')")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--data-dir", default="/tmp/neuq_data")
    ap.add_argument("--qdata", default="/work/qdata")
    ap.add_argument("--cache", default="/tmp/neuq_data/cache.jsonl",
                    help="JSON-lines cache; comma-separated: write the first, read all")
    ap.add_argument("--no-reference", action="store_true", help="skip Ncut and k-means")
    ap.add_argument("--cached-only", action="store_true", help="run nothing: print what the cache holds")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "neuncut"))
    ap.add_argument("--tag", default="", help="cache tag instead of the binary hash (e.g. before)")
    a = ap.parse_args()

    sets = prepare(a.data_dir, a.qdata)
    names = list(sets) if a.sets == "all" else a.sets.split(",")
    seeds = [int(s) for s in a.seeds.split(",")]
    with open(a.cli, "rb") as f:
        binary = a.tag or hashlib.sha1(f.read()).hexdigest()[:10]
    cache = {}
    caches = a.cache.split(",")  # written: the first; read: all (so that parallel runs can share)
    for path in caches:
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    r = json.loads(line)
                    cache[r["key"]] = r["out"]
    n_cached = len(cache)

    def save():
        with open(caches[0], "w") as f:
            for k, v in cache.items():
                f.write(json.dumps({"key": k, "out": v}) + "\n")

    configs = []  # (column name, cache tag, flags); "TAG@CONFIG" reads another binary's runs
    for c in a.configs.split(","):
        tag, _, spec = c.rpartition("@")
        flags = spec[4:].split() if spec.startswith("raw:") else CONFIGS[spec]
        configs.append((c, tag or binary, flags + a.extra.split()))

    def data_args(name, z=False):
        if name == "fashion-mnist":
            return ["--data", "fashion-mnist"]
        p = os.path.join(a.data_dir, name)
        if z:
            return ["--data", p + "_z.npy", "--truth", p + "_y.npy"]
        shape = sets[name][1]
        return ["--data", p + ".npy", "--truth", p + "_y.npy"] + (["--image-shape", shape] if shape else [])

    def mean_of(rows):
        ok = [r for r in rows if "acc" in r]
        if not ok:
            return None
        return (float(np.mean([r["acc"] for r in ok])), float(np.mean([r["nmi"] for r in ok])),
                sum(1 for r in ok if r.get("collapse")), len(rows) - len(ok))

    header = ["set", "n", "k"] + [c for c, _, _ in configs] + ([] if a.no_reference else ["ncut", "kmeans", "best ref"])
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in names:
        k = sets[name][0]
        cells = []
        n = "?"
        for cname, tag, flags in configs:
            rows = []
            for s in seeds:
                cmd = [a.cli, "fit", *data_args(name), "--k", str(k), "--seed", str(s), "--threads", a.threads,
                       "--json", "-q", *flags]
                rows.append(run_cli(cmd, cache, f"{tag}|{name}|fit|{' '.join(flags)}|{s}", a.cached_only))
                save()
            m = mean_of(rows)
            extra = ""
            if m and m[2]:
                extra += f" ({m[2]} collapsed)"
            if m and m[3]:
                extra += f" ({m[3]} failed)"
            cells.append("failed: " + rows[0].get("error", "")[:60] if m is None else f"{m[0]:.3f} / {m[1]:.3f}{extra}")
            n = next((r["n"] for r in rows if "n" in r), n)
        if not a.no_reference and name == "fashion-mnist":
            cells += ["0.600 / 0.687 (scattering, issue 13)", "-", "0.600 / 0.687"]
        elif not a.no_reference:
            best = {}
            for method in ("ncut", "kmeans"):
                outs = []
                for norm in ("true", "false"):
                    rows = []
                    for s in seeds:
                        cmd = [a.cli, method, *data_args(name, z=name != "fashion-mnist"), "--k", str(k), "--seed",
                               str(s), "--threads", a.threads, "--json", "-q", "--normalize", norm]
                        rows.append(run_cli(cmd, cache, f"ref|{name}|{method}|{norm}|{s}", a.cached_only))
                        save()
                    m = mean_of(rows)
                    if m:
                        outs.append(m)
                m = max(outs, key=lambda t: t[0] + t[1]) if outs else None
                best[method] = m
                cells.append("failed" if m is None else f"{m[0]:.3f} / {m[1]:.3f}")
            refs = [m for m in best.values() if m]
            cells.append(f"{max(r[0] for r in refs):.3f} / {max(r[1] for r in refs):.3f}" if refs else "-")
        print(f"| {name} | {n} | {k} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n(ACC / NMI, mean over seeds {a.seeds}; {len(cache) - n_cached} new runs; binary {binary}; "
          f"references on z-scored features, the better of L2-normalized rows or not)", file=sys.stderr)


if __name__ == "__main__":
    main()
