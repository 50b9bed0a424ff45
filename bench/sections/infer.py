"""Section `infer`: labelling throughput (rows/s) of a trained NeuNcut network on all of
Fashion-MNIST: `neuncut predict` (its predict_seconds: preprocessing, forward and argmax,
chunk by chunk; loading and writing excluded) against the PyTorch network of the same shape
(L2 normalization, forward and argmax per chunk, the same chunk size). The network weights
do not change the work, so the PyTorch side uses a fresh network. neuncut-bf16: a model trained
the same way with --precision bf16, which predicts in bf16, when the harness enables bf16 runs."""
import os

import methods
import proc
import stats


def run(h):
    a = h.args
    # A model to load: one epoch on a small sample is enough (throughput does not depend on the weights).
    train = h.store.fashion(min(max(a.batch_size, 2000), 70000))
    impls = {"neuncut": "fp32"}  # impl -> --precision of its model
    if getattr(a, "bf16_runs", False):
        impls["neuncut-bf16"] = "bf16"
    models, fits = {}, {}
    for impl, precision in impls.items():
        models[impl] = os.path.join(h.workdir, f"infer_model_{precision}.nnc")
        fit = proc.run([h.neuncut, "fit", "--data", train.path, "--truth", train.labels_path, "--k", a.k,
                        "--hidden", "512,512", "--epochs", "1", "--batch-size", a.batch_size, "--sigma", a.sigma,
                        "--seed", a.seed, "--model", models[impl], "--json", "--quiet",
                        "--features", "raw"]  # the network on pixels, as the PyTorch peer's
                       + (["--precision", precision] if precision != "fp32" else []), timeout=a.timeout)
        if not fit.ok:
            raise RuntimeError(f"could not train the {precision} model for the inference section: {fit.message}\n"
                               f"{fit.stderr_tail}")
        fits[impl] = fit.as_dict()
    ds = h.store.fashion(a.infer_rows)
    labels = os.path.join(h.workdir, "infer_labels.npy")
    configs = []
    for t in a.infer_threads:
        configs += [(impl, t) for impl in impls] + [("torch", t)]
    runs = []
    for rep in range(a.reps):
        for impl, threads in configs:
            if impl in impls:
                cmd = [h.neuncut, "predict", "--model", models[impl], *ds.neuncut_args(), "--labels-out", labels,
                       "--threads", threads, "--chunk-rows", a.chunk_rows, "--json", "--quiet"]
                env = None
            else:
                cmd = [h.python, f"{methods.BENCH_DIR}/torch_neuncut.py", "infer", "--X", ds.path, "--k", a.k,
                       "--hidden", "512,512", "--threads", threads, "--chunk-rows", a.chunk_rows, "--seed", a.seed]
                env = methods.peer_env(threads, a.coretype)
            r = proc.run(cmd, env=env, timeout=a.timeout, mem_cap_mb=h.mem_cap_mb)
            rec = dict(impl=impl, threads=threads, rep=rep, **r.as_dict(), env=methods.env_delta(env))
            s = r.summary
            if r.ok:
                if "predict_seconds" in s and s.get("n"):
                    rec.update(predict_seconds=s["predict_seconds"], rows=s["n"],
                               rows_per_second=s["n"] / s["predict_seconds"], timing="predict_seconds (self-reported)")
                else:  # an older CLI without predict_seconds: the whole process, loading included
                    rec.update(predict_seconds=r.wall_seconds, rows=ds.n, rows_per_second=ds.n / r.wall_seconds,
                               timing="process wall time (the program reports no predict time)")
            runs.append(rec)
            h.log(f"infer rep {rep + 1}/{a.reps} {impl:12s} threads {threads}: " +
                  (f"{rec['rows_per_second']:.0f} rows/s" if rec["status"] == "ok"
                   else f"{rec['status']} {rec.get('message', '')}"))
    if os.path.exists(labels):
        os.remove(labels)
    summary = []
    for impl, threads in configs:
        mine = [r for r in runs if r["impl"] == impl and r["threads"] == threads and r["status"] == "ok"]
        summary.append(dict(impl=impl, threads=threads,
                            rows_per_second=stats.summarize(r["rows_per_second"] for r in mine),
                            predict_seconds=stats.summarize(r["predict_seconds"] for r in mine),
                            timing=mine[0]["timing"] if mine else None, runs_ok=len(mine),
                            runs=sum(1 for r in runs if r["impl"] == impl and r["threads"] == threads)))
    def per_rep(impl, t):
        return {r["rep"]: r["rows_per_second"] for r in runs if r["impl"] == impl and r["threads"] == t
                and r["status"] == "ok"}

    ratios, bf16_ratios = [], []
    for t in a.infer_threads:
        med = {(row["impl"]): row["rows_per_second"]["median"] for row in summary if row["threads"] == t}
        t_ = per_rep("torch", t)
        for impl in impls:
            n_ = per_rep(impl, t)
            ratios.append(dict(impl=impl, threads=t,
                               throughput_ratio_of_medians=stats.ratio(med.get(impl), med.get("torch")),
                               median_paired_ratio=stats.paired_ratio((n_[i], t_[i]) for i in n_ if i in t_)))
        if "neuncut-bf16" in impls:  # above 1: bf16 is faster
            b_, f_ = per_rep("neuncut-bf16", t), per_rep("neuncut", t)
            bf16_ratios.append(dict(threads=t, throughput_ratio_of_medians=stats.ratio(med.get("neuncut-bf16"),
                                                                                       med.get("neuncut")),
                                    median_paired_ratio=stats.paired_ratio((b_[i], f_[i]) for i in b_ if i in f_)))
    return dict(config=dict(data=ds.as_dict(), rows=ds.n, chunk_rows=a.chunk_rows, hidden=[512, 512], k=a.k,
                            threads=a.infer_threads, reps=a.reps, model_fit=fits["neuncut"],
                            model_fits=fits),
                runs=runs, summary=summary, ratios=ratios, bf16_ratios=bf16_ratios)
