"""Section `e2e`: Fashion-MNIST end to end, every method with its defaults (NeuNcut: train on
--train-size rows, label all; methods named *-scattering run on the scattering features), one
process per run, methods alternating within each repetition. Reported: ACC/NMI/ARI computed here from each method's labels, the process wall
time, the method's own compute time, and peak resident memory."""
import methods
import stats


def run(h):
    a = h.args
    ds = h.store.fashion(a.e2e_rows)
    cfg = h.method_config()
    runs = []
    for rep in range(a.e2e_reps):
        state = {}
        for name in a.e2e_methods:
            data = h.store.scattering(ds, h.neuncut, a.threads) if methods.on_scattering(name) else ds
            rec = methods.run_method(name, data, h.workdir, cfg, state, rep, a.timeout, h.mem_cap_mb)
            runs.append(rec)
            h.log(f"e2e rep {rep + 1}/{a.e2e_reps} {name:16s}: " +
                  (f"ACC {rec['acc']:.4f} NMI {rec['nmi']:.4f} ARI {rec['ari']:.4f} wall {rec['wall_seconds']:.1f}s"
                   if rec["status"] == "ok" else f"{rec['status']} {rec.get('message', '')}"))
    summary = []
    for name in a.e2e_methods:
        mine = [r for r in runs if r["method"] == name and r["status"] == "ok"]
        row = dict(method=name, label=methods.METHODS[name][0], implementation=methods.METHODS[name][1],
                   runs_ok=len(mine), runs=sum(1 for r in runs if r["method"] == name))
        for key in ("acc", "nmi", "ari", "wall_seconds", "compute_seconds", "peak_rss_mb"):
            row[key] = stats.summarize(r.get(key) for r in mine)
        row["compute_covers"] = mine[0].get("compute_covers") if mine else None
        row["failures"] = sorted({r.get("message", r["status"]) for r in runs if r["method"] == name
                                  and r["status"] != "ok"})
        agree = [r["self_reported_agrees"] for r in mine if "self_reported_agrees" in r]
        if agree:
            row["self_reported_agrees"] = all(agree)
        summary.append(row)
    base = next((row["wall_seconds"]["median"] for row in summary if row["method"] == "neuncut"), None)
    for row in summary:
        row["wall_vs_neuncut"] = stats.ratio(row["wall_seconds"]["median"], base)
    return dict(config=dict(data=ds.as_dict(), rows=ds.n, methods=a.e2e_methods, reps=a.e2e_reps,
                            threads=a.threads, torch_threads=a.torch_threads, train_size=a.train_size,
                            epochs=a.epochs or "neuncut default (auto)",
                            spectralnet_epochs=a.spectralnet_epochs or "neuncut default", seed=a.seed,
                            timeout_s=a.timeout, peer_env=dict(OPENBLAS_CORETYPE=a.coretype,
                                                               OPENBLAS_NUM_THREADS="= threads",
                                                               OMP_NUM_THREADS="= threads")),
                runs=runs, summary=summary)
