#!/usr/bin/python3
"""Does NeuNcut with its defaults collapse for some number of clusters k? (issue 13: "no
collapse, ever, with defaults, for k from 2 to at least 50").

Runs `neuncut fit --data SET --k K --seed S` with every other parameter at its default, for each
set x k x seed, and prints one Markdown table: clusters used (of k), the collapse report, the
label-free quality verdict and the wall time. k is not the number of classes here on purpose:
a user asking for more (or fewer) clusters than the data has must still get k used clusters.

  nice /usr/bin/python3 bench/collapse_sweep.py --sets iris,vowel,segment,letter,blobs50 \\
      --ks 2,5,10,26,50 --seeds 0 --threads 1

Data: the quality suite's folder (--qdata, written by scripts/quality-datasets.py); image sets get
their --image-shape. A k larger than a set's rows is skipped."""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="iris,wine,glass,vowel,segment,satellite,digits8,letter,blobs50")
    ap.add_argument("--ks", default="2,5,10,26,50")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--threads", default="1")
    ap.add_argument("--qdata", default="/work/qdata")
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "neuncut"))
    ap.add_argument("--jsonl", default=None, help="also append every run's record here")
    a = ap.parse_args()

    with open(os.path.join(a.qdata, "sets.json")) as f:
        records = {r["name"]: r for r in json.load(f)["sets"]}
    ks = [int(k) for k in a.ks.split(",")]
    seeds = [int(s) for s in a.seeds.split(",")]
    rows = []
    for name in a.sets.split(","):
        rec = records[name]
        path = os.path.join(a.qdata, rec["features"])
        n = np.load(path, mmap_mode="r").shape[0]
        shape = ["--image-shape", rec["image_shape"]] if rec.get("image_shape") else []
        for k in ks:
            if k > n:
                continue
            for seed in seeds:
                cmd = [a.cli, "fit", "--data", path, "--k", str(k), "--seed", str(seed), "--threads", a.threads,
                       "--json", "-q"] + shape
                t0 = time.monotonic()
                proc = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.monotonic() - t0
                if proc.returncode != 0:
                    out = {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
                else:
                    out = json.loads(proc.stdout.strip().splitlines()[-1])
                r = dict(set=name, k=k, seed=seed, wall=round(wall, 1), clusters_used=out.get("clusters_used"),
                         collapse=out.get("collapse") or "", rollbacks=out.get("collapse_rollbacks"),
                         verdict=(out.get("quality") or {}).get("verdict"), error=out.get("error"))
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
                if a.jsonl:
                    with open(a.jsonl, "a") as f:
                        f.write(json.dumps(r) + "\n")
    print("| set | k | seed | clusters used | collapse | rollbacks | quality | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        used = "error: " + r["error"] if r["error"] else f"{r['clusters_used']} of {r['k']}"
        print(f"| {r['set']} | {r['k']} | {r['seed']} | {used} | {r['collapse'] or 'none'} | {r['rollbacks']} | "
              f"{r['verdict']} | {r['wall']} |")
    bad = [r for r in rows if r["error"] or r["collapse"] or r["clusters_used"] != r["k"]]
    print(f"\n{len(rows) - len(bad)} of {len(rows)} runs used all k clusters without a collapse report.")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
