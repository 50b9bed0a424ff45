"""Section `scaling`: time and peak memory as the number of points N grows: Fashion-MNIST
subsets up to 70,000 rows, then jittered replicas of it (see datasets.DataStore.replicated).
Each run has a time limit and a memory cap; a method that fails at some N (time, memory or
error) is recorded as infeasible there and not run at larger N."""
import methods
import stats


def run(h):
    a = h.args
    cfg = h.method_config()
    runs, infeasible = [], {}
    for n in sorted(a.scaling_sizes):
        todo = [m for m in a.scaling_methods if m not in infeasible]
        if not todo:
            h.log(f"scaling N {n}: every method is infeasible; stopping")
            break
        ds = h.store.replicated(n)
        for rep in range(a.scaling_reps):
            state = {}
            for name in a.scaling_methods:
                if name in infeasible:
                    runs.append(dict(method=name, label=methods.METHODS[name][0], data=ds.name, n=n, rep=rep,
                                     status="skipped",
                                     message=f"infeasible at N = {infeasible[name]['n']}: {infeasible[name]['why']}"))
                    continue
                rec = methods.run_method(name, ds, h.workdir, cfg, state, rep, a.timeout, h.mem_cap_mb)
                runs.append(rec)
                h.log(f"scaling N {n} rep {rep + 1}/{a.scaling_reps} {name:16s}: " +
                      (f"wall {rec['wall_seconds']:.1f}s peak {rec['peak_rss_mb']:.0f} MB ACC {rec['acc']:.4f}"
                       if rec["status"] == "ok" else f"{rec['status']} {rec.get('message', '')}"))
                if rec["status"] != "ok":
                    infeasible[name] = dict(n=n, status=rec["status"], why=rec.get("message", rec["status"]))
        if ds.n > 70000 and not a.keep_data:
            h.store.drop(ds)
    summary = []
    for name in a.scaling_methods:
        for n in sorted({r["n"] for r in runs}):
            mine = [r for r in runs if r["method"] == name and r["n"] == n]
            if not mine:
                continue
            ok = [r for r in mine if r["status"] == "ok"]
            row = dict(method=name, label=methods.METHODS[name][0], n=n, runs_ok=len(ok), runs=len(mine),
                       status="ok" if ok else mine[0]["status"], message=None if ok else mine[0].get("message"))
            for key in ("wall_seconds", "compute_seconds", "peak_rss_mb", "acc", "nmi", "ari"):
                row[key] = stats.summarize(r.get(key) for r in ok)
            summary.append(row)
    return dict(config=dict(sizes=sorted(a.scaling_sizes), methods=a.scaling_methods, reps=a.scaling_reps,
                            threads=a.threads, train_size=a.train_size, jitter=a.jitter, seed=a.seed,
                            timeout_s=a.timeout, mem_cap_mb=h.mem_cap_mb,
                            data="Fashion-MNIST rows drawn at random (seed {}) up to 70,000; above, Fashion-MNIST "
                                 "followed by copies of it, each shuffled, plus N(0, {}^2) noise and clipped to "
                                 "[0, 1] (the last copy cut short)".format(a.seed, a.jitter)),
                infeasible=infeasible, runs=runs, summary=summary)
