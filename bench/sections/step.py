"""Section `step`: the time of one NeuNcut training step (batch affinity, forward, loss,
backward, Adam) in neuncut and in the PyTorch implementation, same data, same settings.

neuncut: `neuncut fit --json` on a file of exactly --step-train-size Fashion-MNIST rows; its
train_seconds covers the epoch loop only (not loading, sigma or labelling), so
  seconds/step = train_seconds / (epochs * (train_points // batch_size)).
PyTorch: bench/torch_neuncut.py step times the same loop the same way (first epoch included,
as in neuncut); its per-step median is kept for information.
neuncut-bf16: the same neuncut run with --precision bf16 (bf16 products, fp32 master weights),
in the same alternation, when the harness enables bf16 runs.
neuncut-eigen: the same fp32 run with NEUNCUT_FP32_GEMM=eigen, i.e. fp32 products through Eigen's
GEMM instead of oneDNN's (the default in builds with oneDNN), when the harness enables it: what
the product library alone is worth, measured in the same alternation."""
import os

import methods
import proc
import stats


def flops_per_step(m, d, hidden, k):
    """Floating-point operations of one step (multiply-add = 2), by part.
    affinity: the Gram matrix B B^T as a full GEMM, 2 m^2 d (m^2 d when symmetry is used);
    forward: 2 m sum(fan_in * fan_out); backward: the weight gradients of every layer
    (= forward) plus the input gradients of every layer but the first;
    loss: W H and its transpose product in the gradient, 4 m^2 k.
    Elementwise work (exp, softmax, ReLU, Adam) is not counted."""
    widths = [d] + list(hidden) + [k]
    sizes = [a * b for a, b in zip(widths[:-1], widths[1:])]
    forward = 2 * m * sum(sizes)
    parts = dict(affinity=2 * m * m * d, forward=forward, backward=2 * forward - 2 * m * sizes[0], loss=4 * m * m * k)
    return dict(parts=parts, total=sum(parts.values()), affinity_symmetric=m * m * d,
                formula="affinity 2*m*m*d + forward 2*m*sum(fan_in*fan_out) + backward (2*forward - 2*m*d*h1) "
                        "+ loss 4*m*m*k")


# impl -> (--precision, environment variables set for the run)
NEUNCUT_IMPLS = {"neuncut": ("fp32", {}), "neuncut-bf16": ("bf16", {}),
                 "neuncut-eigen": ("fp32", {"NEUNCUT_FP32_GEMM": "eigen"})}


def _neuncut_cmd(h, ds, threads, impl="neuncut"):
    a = h.args
    precision, extra_env = NEUNCUT_IMPLS[impl]
    env = dict(os.environ, **extra_env) if extra_env else None
    cmd = [h.neuncut, "fit", "--data", ds.path, "--truth", ds.labels_path, "--k", a.k, "--hidden", "512,512",
           "--train-size", "0", "--epochs", a.step_epochs, "--batch-size", a.batch_size, "--sigma", a.sigma,
           "--lr", a.lr, "--seed", a.seed, "--threads", threads, "--json", "--quiet"]
    return cmd + (["--precision", precision] if precision != "fp32" else []), env


def _torch_cmd(h, ds, threads):
    a = h.args
    return [h.python, f"{methods.BENCH_DIR}/torch_neuncut.py", "step", "--X", ds.path, "--k", a.k,
            "--hidden", "512,512", "--epochs", a.step_epochs, "--batch-size", a.batch_size, "--sigma", a.sigma,
            "--lr", a.lr, "--seed", a.seed, "--threads", threads], methods.peer_env(threads, a.coretype)


def _seconds_per_step(impl, s):
    if impl in NEUNCUT_IMPLS:
        steps = s["train_points"] // s["batch_size"]
        return s["train_seconds"] / (s["epochs"] * steps), steps
    return s["seconds_per_step"], s["steps_per_epoch"]


def run(h):
    a = h.args
    ds = h.store.fashion(a.step_train_size)
    if ds.n < a.batch_size:
        raise ValueError(f"--step-train-size ({ds.n}) must be at least --batch-size ({a.batch_size})")
    flops = flops_per_step(a.batch_size, ds.d, [512, 512], a.k)
    impls = (["neuncut"] + (["neuncut-bf16"] if getattr(a, "bf16_runs", False) else [])
             + (["neuncut-eigen"] if getattr(a, "eigen_runs", False) else []))
    configs = [(i, t) for i in impls for t in a.step_threads] + [("torch", t) for t in a.torch_step_threads]
    runs = []
    for rep in range(a.reps):
        for impl, threads in configs:  # alternating: A B C D, A B C D, ...
            if impl in NEUNCUT_IMPLS:
                cmd, env = _neuncut_cmd(h, ds, threads, impl)
            else:
                cmd, env = _torch_cmd(h, ds, threads)
            r = proc.run(cmd, env=env, timeout=a.timeout, mem_cap_mb=h.mem_cap_mb)
            rec = dict(impl=impl, threads=threads, rep=rep, **r.as_dict(), env=methods.env_delta(env))
            if r.ok:
                try:
                    sps, steps = _seconds_per_step(impl, r.summary)
                    rec.update(seconds_per_step=sps, steps_per_epoch=steps, epochs=r.summary["epochs"],
                               train_seconds=r.summary["train_seconds"], gflops=flops["total"] / sps / 1e9)
                    if impl == "torch":
                        rec.update(step_seconds_median=r.summary.get("step_seconds_median"),
                                   blas=r.summary.get("blas"))
                    else:
                        rec["sigma"] = r.summary.get("sigma")
                except (KeyError, ZeroDivisionError, TypeError) as e:
                    rec.update(status="error", message=f"unexpected JSON summary ({e}): {r.summary}")
            runs.append(rec)
            h.log(f"step rep {rep + 1}/{a.reps} {impl:12s} threads {threads}: " +
                  (f"{rec['seconds_per_step'] * 1e3:.2f} ms/step" if rec["status"] == "ok"
                   else f"{rec['status']} {rec.get('message', '')}"))
    summary = []
    for impl, threads in configs:
        mine = [r for r in runs if r["impl"] == impl and r["threads"] == threads and r["status"] == "ok"]
        s = stats.summarize(r["seconds_per_step"] for r in mine)
        row = dict(impl=impl, threads=threads, seconds_per_step=s,
                   gflops=flops["total"] / s["median"] / 1e9 if s["median"] else None,
                   runs_ok=len(mine), runs=sum(1 for r in runs if r["impl"] == impl and r["threads"] == threads))
        if impl == "torch":
            row["step_seconds_median_of_steps"] = stats.summarize(r.get("step_seconds_median") for r in mine)["median"]
        summary.append(row)

    def per_rep(impl, threads):
        return {r["rep"]: r.get("seconds_per_step") for r in runs
                if r["impl"] == impl and r["threads"] == threads and r["status"] == "ok"}

    def median_of(impl, threads):
        return next((row["seconds_per_step"]["median"] for row in summary
                     if row["impl"] == impl and row["threads"] == threads), None)

    ratios = []
    for impl in impls:
        for tn in a.step_threads:
            for tt in a.torch_step_threads:
                n_, t_ = per_rep(impl, tn), per_rep("torch", tt)
                ratios.append(dict(impl=impl, neuncut_threads=tn, torch_threads=tt,
                                   ratio_of_medians=stats.ratio(median_of(impl, tn), median_of("torch", tt)),
                                   median_paired_ratio=stats.paired_ratio((n_[i], t_[i]) for i in n_ if i in t_)))

    def against_fp32(impl):
        """impl's time / neuncut fp32's at each thread count."""
        out = []
        for t in a.step_threads:
            x_, f_ = per_rep(impl, t), per_rep("neuncut", t)
            out.append(dict(threads=t, ratio_of_medians=stats.ratio(median_of(impl, t), median_of("neuncut", t)),
                            median_paired_ratio=stats.paired_ratio((x_[i], f_[i]) for i in x_ if i in f_)))
        return out

    # bf16 against fp32 (below 1: bf16 is faster); Eigen's fp32 GEMM against oneDNN's (above 1:
    # oneDNN is faster).
    bf16_ratios = against_fp32("neuncut-bf16") if "neuncut-bf16" in impls else []
    eigen_ratios = against_fp32("neuncut-eigen") if "neuncut-eigen" in impls else []
    return dict(config=dict(data=ds.as_dict(), train_rows=ds.n, batch_size=a.batch_size, epochs=a.step_epochs,
                            hidden=[512, 512], k=a.k, sigma=a.sigma, lr=a.lr, seed=a.seed, reps=a.reps,
                            neuncut_threads=a.step_threads, torch_threads=a.torch_step_threads,
                            torch_env=dict(OPENBLAS_NUM_THREADS="= torch threads", OPENBLAS_CORETYPE=a.coretype,
                                           set_flush_denormal=True)),
                flops=flops, runs=runs, summary=summary, ratios=ratios, bf16_ratios=bf16_ratios,
                eigen_ratios=eigen_ratios)
