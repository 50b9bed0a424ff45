#!/usr/bin/python3
"""Writes the benchmark report (Markdown) and the scaling plot (PNG) from result files of
bench/run.py. Every number comes from the results; nothing is typed in by hand.

  bench/report.py bench/results/latest.json --out docs/benchmarks.md --img docs/img/scaling.png
  bench/report.py --quality bench/results/latest.json --out docs/quality.md --img docs/img/quality.png

Several result files may be given (e.g. one run of step,infer,e2e and one of scaling): a
section is taken from the last file that has it, and every file's command and context are shown."""
import argparse
import json
import os
import sys

SECTION_ORDER = ("step", "infer", "e2e", "scaling", "scale")


# ---------------------------------------------------------------- formatting
def num(x, digits=3):
    if x is None:
        return "–"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fixed(x, places):
    return "–" if x is None else f"{x:.{places}f}"


def spread(s, scale=1.0, digits=3):
    if not s or s.get("min") is None:
        return "–"
    if s["n"] == 1:
        return "1 run"
    return f"{num(s['min'] * scale, digits)}–{num(s['max'] * scale, digits)}"


def med(s, scale=1.0):
    return None if not s or s.get("median") is None else s["median"] * scale


def plural(n, word, many=None):
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def mb(x):
    return "–" if x is None else f"{x:,.0f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def impl_name(impl):
    return {"neuncut": "neuncut", "neuncut-bf16": "neuncut bf16", "neuncut-eigen": "neuncut, Eigen GEMM",
            "torch": "PyTorch"}.get(impl, impl)


# ---------------------------------------------------------------- context
def context_table(res):
    c = res.get("context", {})
    cpu, v, b = c.get("cpu", {}), c.get("versions", {}), c.get("build", {})
    blas = [p for p in v.get("threadpools", []) if p.get("internal_api") == "openblas"]
    blas_s = ", ".join(f"OpenBLAS {p.get('version')} ({p.get('threading_layer')}; detected kernels "
                       f"{p.get('architecture')})" for p in blas) or "–"
    settings = res.get("settings", {})
    coretype, check = settings.get("coretype"), settings.get("coretype_check") or {}
    chosen = f"runs set OPENBLAS_CORETYPE={coretype or '(unset)'}"
    if check.get("requested") == "auto":
        chosen += f" (chosen from the CPU: {check.get('reason')})"
    if check.get("corename"):
        chosen += f"; under it OpenBLAS reports kernels {check['corename']}"
    if check.get("note"):
        chosen += f" ({check['note']})"
    env = c.get("env", {})
    flags = [b.get("CMAKE_CXX_FLAGS", ""), b.get(f"CMAKE_CXX_FLAGS_{b.get('CMAKE_BUILD_TYPE', '').upper()}", "")]
    compiler = os.path.basename(b.get("CMAKE_CXX_COMPILER", "") or "–")
    options = ", ".join(f"{k}={val}" for k, val in sorted(b.items()) if k.startswith("NEUNCUT_")) or "–"
    rows = [
        ("CPU", f"{cpu.get('model')} (vendor {cpu.get('vendor')}, family {cpu.get('family')}, model "
                f"{cpu.get('model_number')}, {cpu.get('mhz')} MHz, cache {cpu.get('cache')})"),
        ("SIMD flags", " ".join(cpu.get("simd_flags", [])) or "–"),
        ("Cores", f"{c.get('cores_usable')} usable of {c.get('cores_online')} online; cgroup cpu.max "
                  f"{c.get('cgroup_cpu_max') or '–'}"),
        ("Memory", f"{num((c.get('memory_total_mb') or 0) / 1024)} GiB; "
                   f"cgroup memory.max {c.get('cgroup_memory_max') or '–'}"),
        ("OS", f"{c.get('os')}, Linux {c.get('kernel')}, host {c.get('host')}"),
        ("Load average (1, 5, 15 min)",
         f"at start {c.get('load_average_at_start')}, at end {res.get('load_average_at_end')}"),
        ("neuncut", f"{c.get('neuncut_version')}, commit {str(c.get('git_commit'))[:12]}"
                    f"{' with uncommitted changes' if c.get('git_dirty') else ''}"),
        ("Build", f"{b.get('CMAKE_BUILD_TYPE') or '–'}, {compiler}, "
                  f"flags `{' '.join(f for f in flags if f).strip() or '(none)'}`; options {options}"),
        ("Python peers", f"{c.get('python_peers')}: Python {v.get('python')}, numpy {v.get('numpy')}, scipy "
                         f"{v.get('scipy')}, scikit-learn {v.get('sklearn')}, torch {v.get('torch')}"),
        ("BLAS of the peers", f"{blas_s}; {chosen}"),
        ("Environment of the driver",
         ", ".join(f"`{k}={val}`" for k, val in env.items()) or "no BLAS/OpenMP variables set"),
    ]
    return table(("", ""), rows)


# ---------------------------------------------------------------- sections
def section_failed(name, sec):
    return f"The `{name}` section failed: {sec['error']}\n" if "error" in sec else ""


def same_threads_ratio_table(ratios, key="ratio_of_medians"):
    """A table of one program's time or throughput against another's at each thread count."""
    rows = [(r["threads"], fixed(r[key], 3), fixed(r["median_paired_ratio"], 3)) for r in ratios]
    return table(("threads", "ratio of medians", "median of per-repetition ratios"), rows)


def render_step(sec):
    c, fl = sec["config"], sec["flops"]
    lines = [
        f"One NeuNcut training step: batch affinity (Gaussian, sigma {c['sigma']}), MLP "
        f"{c['data']['d']}-{'-'.join(map(str, c['hidden']))}-{c['k']} forward and backward, the Ncut loss and "
        f"its gradient, an Adam update. Batch m = {c['batch_size']}, data: "
        f"{c['data'].get('description') or c['data']['name']}, "
        f"{plural(c['epochs'], 'epoch')} per run; seconds per step = the epoch loop's time / steps (the first epoch "
        f"included, for both). {plural(c['reps'], 'repetition')}, the configurations alternating within each. PyTorch: "
        f"`torch.set_num_threads(t)`, `set_flush_denormal(True)`, `OPENBLAS_NUM_THREADS=t`, "
        f"`OPENBLAS_CORETYPE={c['torch_env'].get('OPENBLAS_CORETYPE')}`.",
        "",
    ]
    rows = []
    for r in sec["summary"]:
        s = r["seconds_per_step"]
        extra = ""
        if r.get("step_seconds_median_of_steps"):
            extra = f" (median single step {num(r['step_seconds_median_of_steps'] * 1e3)} ms)"
        rows.append((impl_name(r["impl"]), r["threads"], num(med(s, 1e3)) + extra, spread(s, 1e3), num(r["gflops"]),
                     f"{r['runs_ok']}/{r['runs']}"))
    lines += [table(("program", "threads", "median ms/step", "min–max ms", "GFLOP/s", "runs ok"), rows), ""]
    # The program column only when neuncut ran in more than one precision (older results: fp32 only).
    many = len({r.get("impl", "neuncut") for r in sec["ratios"]}) > 1
    rows = [((impl_name(r.get("impl", "neuncut")),) if many else ()) +
            (r["neuncut_threads"], r["torch_threads"], fixed(r["ratio_of_medians"], 3),
             fixed(r["median_paired_ratio"], 3)) for r in sec["ratios"]]
    lines += ["neuncut time / PyTorch time per step (below 1: neuncut is faster):", "",
              table((("program",) if many else ()) + ("neuncut threads", "PyTorch threads", "ratio of medians",
                                                       "median of per-repetition ratios"), rows),
              ""]
    for key, title in (("bf16_ratios", "neuncut bf16 time / neuncut fp32 time per step (below 1: bf16 is faster; "
                                        "docs/mixed-precision.md):"),
                       ("eigen_ratios", "neuncut fp32 with Eigen's GEMM (`NEUNCUT_FP32_GEMM=eigen`) / neuncut fp32 "
                                         "with oneDNN's, time per step (above 1: oneDNN is faster):")):
        if sec.get(key):
            lines += [title, "", same_threads_ratio_table(sec[key]), ""]
    p = fl["parts"]
    lines += [f"GFLOP/s = {num(fl['total'] / 1e9, 4)} GFLOP per step / median time. The count: "
              f"{fl['formula']}; "
              + ", ".join(f"{k} {num(v / 1e9, 4)}" for k, v in p.items())
              + f" GFLOP (the affinity is {num(fl['affinity_symmetric'] / 1e9, 4)} GFLOP if its symmetry is "
                "used); exp, softmax, ReLU and Adam are not counted.", ""]
    return lines


def render_infer(sec):
    c = sec["config"]
    timing = {r["timing"] for r in sec["summary"] if r.get("timing")}
    lines = [
        f"Labelling {c['data'].get('description') or c['data']['name']} with a trained network "
        f"({c['data']['d']}-{'-'.join(map(str, c['hidden']))}-{c['k']}) in chunks of {c['chunk_rows']:,} rows: "
        "normalization, forward, argmax; loading and writing excluded. neuncut: `neuncut predict`'s "
        "`predict_seconds`; PyTorch: the same loop timed in-process. "
        f"{plural(c['reps'], 'repetition')}, alternating.",
        "",
    ]
    if any("wall" in t for t in timing):
        lines += ["Note: some runs were timed by the process wall clock (the program reported no predict time).", ""]
    rows = [(impl_name(r["impl"]), r["threads"], num(med(r["rows_per_second"])), spread(r["rows_per_second"]),
             num(med(r["predict_seconds"])), f"{r['runs_ok']}/{r['runs']}") for r in sec["summary"]]
    lines += [table(("program", "threads", "median rows/s", "min–max rows/s", "median seconds", "runs ok"), rows), ""]
    many = len({r.get("impl", "neuncut") for r in sec["ratios"]}) > 1
    rows = [((impl_name(r.get("impl", "neuncut")),) if many else ()) +
            (r["threads"], fixed(r["throughput_ratio_of_medians"], 3), fixed(r["median_paired_ratio"], 3))
            for r in sec["ratios"]]
    lines += ["neuncut rows/s / PyTorch rows/s (above 1: neuncut is faster):", "",
              table((("program",) if many else ()) + ("threads", "ratio of medians",
                                                       "median of per-repetition ratios"), rows), ""]
    if sec.get("bf16_ratios"):
        lines += ["neuncut bf16 rows/s / neuncut fp32 rows/s (above 1: bf16 is faster):", "",
                  same_threads_ratio_table(sec["bf16_ratios"], "throughput_ratio_of_medians"), ""]
    return lines


def render_e2e(sec):
    c = sec["config"]
    lines = [
        f"{c['data'].get('description') or c['data']['name']}; seed {c['seed']}, every method with its "
        "defaults; NeuNcut "
        f"trains on {c['train_size']:,} rows (epochs: {c['epochs']}) and labels all, on the images' scattering "
        "features (neuncut's default for images; `NeuNcut, pixels`: `--features raw`); the PyTorch NeuNcut "
        "trains on pixels with the sigma and epochs of neuncut's run on pixels in the same repetition; "
        "`..., scattering features`: the method run on the output of `neuncut features` (the features NeuNcut "
        "sees), to separate what the features do from what the method does. neuncut and scikit-learn: "
        f"{c['threads']} threads; PyTorch: {c['torch_threads']}. {plural(c['reps'], 'repetition')} per method. ACC "
        "(Hungarian matching), NMI (geometric normalization) and ARI are computed by the benchmark from "
        "each method's labels. Wall: the whole process (start-up and data loading included); compute: the "
        "method's own timing (see below).",
        "",
    ]
    rows = []
    for r in sec["summary"]:
        if r["runs_ok"] == 0:
            rows.append((r["label"], "–", "–", "–", "–", "–", "–", "–",
                         f"0/{r['runs']}: {'; '.join(r['failures'])}"))
            continue
        rows.append((r["label"], fixed(med(r["acc"]), 4), fixed(med(r["nmi"]), 4), fixed(med(r["ari"]), 4),
                     num(med(r["wall_seconds"])), num(med(r["compute_seconds"])), fixed(r.get("wall_vs_neuncut"), 2),
                     mb(med(r["peak_rss_mb"])), f"{r['runs_ok']}/{r['runs']}"))
    lines += [table(("method", "ACC", "NMI", "ARI", "wall s", "compute s", "wall / neuncut NeuNcut", "peak RSS MB",
                     "runs ok"), rows), ""]
    covers = [f"{r['label']}: {r['compute_covers']}" for r in sec["summary"] if r.get("compute_covers")]
    if covers:
        lines += ["Compute time covers: " + "; ".join(covers) + ".", ""]
    agree = [r for r in sec["summary"] if "self_reported_agrees" in r]
    if agree:
        ok = [r["label"] for r in agree if r["self_reported_agrees"]]
        bad = [r["label"] for r in agree if not r["self_reported_agrees"]]
        lines += [("The scores neuncut prints itself agree with the benchmark's (to 2e-4) for " + ", ".join(ok) + "."
                   if ok else "") + (f" They DISAGREE for {', '.join(bad)}." if bad else ""), ""]
    return lines


def render_scaling(sec, img_rel):
    c = sec["config"]
    methods = c["methods"]
    labels = {r["method"]: r["label"] for r in sec["summary"]}
    lines = [
        f"Time and peak resident memory as N grows. Data: {c['data']}. NeuNcut trains on "
        f"min(N, {c['train_size']:,}) rows and labels all N. Threads: {c['threads']}. Limits per run: "
        f"{num(c['timeout_s'])} s and {num((c['mem_cap_mb'] or 0) / 1024)} GiB resident; a method that fails "
        "at some N is not run at larger N. Peak memory: the larger of the kernel's maximum RSS of the "
        "process and its process tree's RSS sampled every 0.25 s.",
        "",
    ]
    sizes = sorted({r["n"] for r in sec["summary"]})
    by = {(r["method"], r["n"]): r for r in sec["summary"]}
    rows = []
    for n in sizes:
        row = [f"{n:,}"]
        for m in methods:
            r = by.get((m, n))
            if r is None:
                row.append("not run")
            elif r["status"] == "ok":
                row.append(f"{num(med(r['wall_seconds']))} s, {mb(med(r['peak_rss_mb']))} MB, "
                           f"ACC {fixed(med(r['acc']), 3)}")
            elif r["status"] == "skipped":
                row.append("not run (infeasible at smaller N)")
            else:
                row.append(f"**infeasible** ({r['status']}): {r.get('message') or ''}")
        rows.append(row)
    lines += [table(["N"] + [labels.get(m, m) for m in methods], rows), ""]
    if img_rel:
        lines += [f"![time and peak memory against N]({img_rel})", ""]
    return lines


SCALE_LABELS = dict(neuncut="NeuNcut (fit on a sample, labels streamed)", ncut="Ncut, landmark solver",
                    kmeans="k-means", **{"ncut-exact": "Ncut, exact solver (the 70,000 originals: reference)"})


def scale_label(r):
    """A `scale` record's method as the table names it."""
    if r["method"] == "neuncut-mpi-predict":
        return f"NeuNcut `predict` (the fit's model), {r.get('ranks')} MPI rank(s)"
    if r["method"] == "neuncut-mpi-fit":
        return f"NeuNcut data-parallel `fit`, {r.get('ranks')} MPI ranks"
    if r["method"] == "neuncut-mpi":
        return f"NeuNcut, {r.get('ranks')} MPI rank(s)"
    return SCALE_LABELS.get(r["method"], r["method"])


def merge_scale(scale_runs):
    """One `scale` section from several runs' (file index, section): a later run's record of the same
    method, kind, N (and MPI ranks) replaces the earlier one; every record keeps the run it came from
    (1-based, as the report numbers them). The text describes the first run's configuration."""
    merged, order = {}, []
    for i, sec in scale_runs:
        for r in sec["runs"]:
            key = (r["method"], r["kind"], r["n"], r.get("ranks"))
            if key not in merged:
                order.append(key)
            merged[key] = dict(r, run=i + 1)
    first = scale_runs[0][1]
    return dict(first, runs=[merged[k] for k in order], from_runs=[i for i, _ in scale_runs],
                first_run=scale_runs[0][0] + 1,
                seconds=sum(sec.get("seconds") or 0 for _, sec in scale_runs))


def render_scale(sec, img_rel=None):
    """Issue 14's targets, one row per data set and method, from the `scale` section."""
    c = sec["config"]
    lines = [
        f"Fashion-MNIST-like uint8 images (copies of Fashion-MNIST with N(0, {num(c['image_noise'])}^2) grey-level "
        f"noise) and 2-D Gaussian blobs. "
        + (f"NeuNcut: one `fit --train-size {c['train_size']:,} --labels-out`, which reads only its random rows, "
           "trains on them and labels the whole file, streamed (images: scattering transform included); rows/s "
           "labelled is N over the labelling time it reports. "
           if c.get("neuncut_run") == "fit-labels" else
           f"NeuNcut trains on {c['train_size']:,} random rows and `predict` labels the whole file, streamed "
           "(images: scattering transform included). ")
        + "Ncut (`--solver landmark`) and k-means "
        "run on the images' scattering features (`neuncut features`, streamed) and on the raw points"
        + ((f" (run {sec['first_run']} ran k-means on images up to {c['kmeans_images_max']:,} only: "
            "--scale-kmeans-images-max)" if sec.get("first_run") else
            f" (k-means on images up to {c['kmeans_images_max']:,} only: --scale-kmeans-images-max)")
           if c.get("kmeans_images_max") else "")
        + "; exact Ncut on the 70,000 originals' features is the landmark solver's reference"
        + (f". MPI at the smallest image count: `mpirun -np R neuncut predict` with the one-process fit's model "
           "(labels compared byte for byte) and, R > 1, data-parallel `mpirun -np R neuncut fit` (one thread a "
           "rank when R >= threads)" if [x for x in c.get("mpi_ranks") or [] if x > 0] else "")
        + ". Time: the "
        f"sum of the method's commands. Threads: {c['threads']}. Limits per command: {num(c['timeout_s'])} s and "
        f"{num((c['mem_cap_mb'] or 0) / 1024)} GiB resident.",
        ""]
    rows = []
    for r in sec["runs"]:
        label = scale_label(r)
        if r["method"] == "neuncut" and c.get("neuncut_run") != "fit-labels":
            label = "NeuNcut (fit on a sample, streamed predict)"  # runs before fit read its own sample
        if r["status"] == "ok":
            steps = ", ".join(f"{s['step']} {num(s['wall_seconds'])} s" for s in r["steps"])
            if r.get("label_seconds"):
                steps += f", of which labelling {num(r['label_seconds'])} s"
            if r.get("full_passes"):
                steps += (f"; restarts on {r['sample_rows']:,} rows, then {r['full_passes']} passes over all rows"
                          + (", streamed from the file" if r.get("streamed") else ""))
            rate = f"{num(r['rows_per_second'])}" if r.get("rows_per_second") else ""
            if r["method"].startswith("neuncut-mpi") and (r.get("threads_per_rank") or 1) > 1 and \
                    not any("--bind-to" in st["cmd"] for st in r["steps"]):
                steps += (f"; run with Open MPI's default binding, one core a rank for 2 ranks or fewer, so its "
                          f"{r['threads_per_rank']} threads shared one core (bench/sections/scale.py now passes "
                          "--bind-to none)")
            if "identical_to_one_process" in r:
                steps += "; labels " + ("identical to" if r["identical_to_one_process"] else "**differ** from") + \
                         " one process's"
            if "one_process_acc" in r:
                steps += f"; one process: ACC {fixed(r['one_process_acc'], 3)}, NMI {fixed(r['one_process_nmi'], 3)}"
            rows.append([r["kind"], f"{r['n']:,}", label, f"{num(r['wall_seconds'])} s ({steps})",
                         f"{mb(r['peak_rss_mb'])} MB", rate, fixed(r["acc"], 3), fixed(r["nmi"], 3)])
        else:
            rows.append([r["kind"], f"{r['n']:,}", label, f"**{r['status']}**: {r.get('message') or ''}",
                         "", "", "", ""])
        if "from_runs" in sec:
            rows[-1].append(str(r.get("run", "")))
    header = ["data", "N", "method", "time", "peak RSS", "rows/s labelled", "ACC", "NMI"]
    if "from_runs" in sec:
        header.append("run")
        lines += ["Rows from several runs (column run): a later run's row replaces an earlier one of the same "
                  "data, N and method.", ""]
    lines += [table(header, rows), ""]
    if img_rel:
        lines += [f"![time and peak memory of the scale section against N]({img_rel})", ""]
    lines += ["Issue 14's targets, judged from the runs above alone (a target whose N was not run is "
              "\"not measured\"):", "", table(["target", "verdict"], scale_targets(sec["runs"])), ""]
    return lines


def scale_targets(runs):
    """[target, verdict] rows for issue 14's scale targets from the section's runs."""
    ok = [r for r in runs if r["status"] == "ok"]

    def largest(kind, method=None):
        mine = [r for r in ok if r["kind"] == kind and (method is None or r["method"] == method)]
        return max(mine, key=lambda r: r["n"]) if mine else None

    out = []
    r = largest("images", "neuncut")
    target = "10M images labelled end to end (NeuNcut), peak RSS < 2 GB, >= 40,000 images/s"
    if r is None:
        out.append([target, "not measured"])
    else:
        met = r["n"] >= 10_000_000 and r["peak_rss_mb"] < 2048 and r["rows_per_second"] >= 40000
        scope = "" if r["n"] >= 10_000_000 else f" (largest N run: {r['n']:,}; 10M not measured)"
        out.append([target, f"{'met' if met else 'not met'}{scope}: {num(r['rows_per_second'])} images/s, "
                            f"peak {mb(r['peak_rss_mb'])} MB"])
    target = "20M 2-D points clustered end to end in < 120 s (spectral: NeuNcut or landmark Ncut, as U-SPEC)"
    big = [x for x in ok if x["kind"] == "points" and x["method"] in ("neuncut", "ncut")]
    if not big:
        out.append([target, "not measured"])
    else:
        n = max(x["n"] for x in big)
        best = min((x for x in big if x["n"] == n), key=lambda x: x["wall_seconds"])
        label = scale_label(best)
        verdict = ("met" if best["wall_seconds"] < 120 else "not met") if n >= 20_000_000 else \
            f"not measured at 20M (largest N run: {n:,})"
        out.append([target, f"{verdict}: fastest spectral method at {n:,}: {label}, {num(best['wall_seconds'])} s"])
    r = next((x for x in sorted(ok, key=lambda x: x["n"]) if x["kind"] == "images" and x["method"] == "ncut"
              and x["n"] >= 1_000_000), None)
    exact = largest("images", "ncut-exact")
    target = "Large-scale Ncut on 1M images in < 120 s and < 4 GB, ACC within 0.02 of exact Ncut on the 70,000 " \
             "originals"
    if r is None:
        out.append([target, "not measured"])
    else:
        ncut_s = next(s["wall_seconds"] for s in r["steps"] if s["step"] == "ncut")
        met = ncut_s < 120 and r["peak_rss_mb"] < 4096 and exact is not None and r["acc"] >= exact["acc"] - 0.02
        ref = f"exact Ncut on the originals: ACC {fixed(exact['acc'], 3)}" if exact else \
            "exact Ncut on the originals: not run, so not judged"
        out.append([target, f"{'met' if met else 'not met'} at {r['n']:,}: ncut {num(ncut_s)} s (plus features "
                            f"{num(r['wall_seconds'] - ncut_s)} s), peak {mb(r['peak_rss_mb'])} MB, ACC "
                            f"{fixed(r['acc'], 3)} ({ref})"])
    mpi = [x for x in runs if x["method"] in ("neuncut-mpi-predict", "neuncut-mpi")]
    target = "MPI: 2 ranks give labels identical to 1 process"
    two = [x for x in mpi if x.get("ranks", 0) >= 2]
    if not two or any(x["status"] != "ok" for x in two):
        why = "; ".join(sorted({x.get("message") or x["status"] for x in two if x["status"] != "ok"}))
        out.append([target, f"not measured{': ' + why if why else ''}"])
    else:
        same = all(x.get("identical_to_one_process") for x in two)
        out.append([target, ("met" if same else "not met") + ": " + ", ".join(
            f"{x['ranks']} ranks at {x['n']:,} images: labels "
            f"{'identical' if x.get('identical_to_one_process') else 'different'}, "
            f"{num(x.get('rows_per_second') or 0)} images/s" for x in two)])
    fits = [x for x in runs if x["method"] == "neuncut-mpi-fit"]
    target = "MPI: data-parallel training with R ranks reaches the single-process ACC (within 0.01)"
    if not fits or any(x["status"] != "ok" for x in fits):
        out.append([target, "not measured"])
    else:
        met = all(x["acc"] >= x["one_process_acc"] - 0.01 for x in fits)
        out.append([target, ("met" if met else "not met") + ": " + ", ".join(
            f"{x['ranks']} ranks ACC {fixed(x['acc'], 3)} against one process {fixed(x['one_process_acc'], 3)} "
            f"({x['n']:,} images)" for x in fits)])
    return out


def log_log_axes(axes, titles, xlabel):
    """The time and memory panels against N: log-log, titled, gridded."""
    for ax, title, ylabel in zip(axes, titles, ("seconds", "MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="both", alpha=0.3)


def plot_scaling(sec, img):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = sec["config"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for m in c["methods"]:
        rows = sorted((r for r in sec["summary"] if r["method"] == m), key=lambda r: r["n"])
        if not rows:
            continue
        label = rows[0]["label"]
        ok = [r for r in rows if r["status"] == "ok"]
        bad = [r for r in rows if r["status"] not in ("ok", "skipped")]
        for ax, key in zip(axes, ("wall_seconds", "peak_rss_mb")):
            line, = ax.plot([r["n"] for r in ok], [med(r[key]) for r in ok], "o-", label=label)
            for r in bad:  # where it stopped being feasible
                y = c["timeout_s"] if key == "wall_seconds" else (c["mem_cap_mb"] or 0)
                if r["status"] == "memory" and key == "wall_seconds" and ok:
                    y = med(ok[-1][key])
                ax.plot([r["n"]], [y], "x", color=line.get_color(), markersize=10, markeredgewidth=2)
                ax.annotate(r["status"], (r["n"], y), textcoords="offset points", xytext=(4, 4), fontsize=8,
                            color=line.get_color())
    axes[0].axhline(c["timeout_s"], color="grey", lw=0.8, ls="--")
    if c.get("mem_cap_mb"):
        axes[1].axhline(c["mem_cap_mb"], color="grey", lw=0.8, ls="--")
    log_log_axes(axes, ("Wall time (dashed: time limit)", "Peak resident memory (dashed: cap)"),
                 "N (points clustered)")
    sizes = sorted({r["n"] for r in sec["summary"]})
    for ax in axes:
        ax.set_xticks(sizes)
        ax.set_xticklabels([f"{n // 1000}k" if n % 1000 == 0 else str(n) for n in sizes], fontsize=8)
        ax.minorticks_off()
    axes[0].legend(fontsize=8)
    save_figure(fig, img)


def plot_scale(sec, img):
    """Wall time and peak RSS against N of the `scale` section's methods, images and points."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = dict(neuncut="C0", ncut="C1", kmeans="C2")
    for kind, marker, style in (("images", "o", "-"), ("points", "s", "--")):
        for method in ("neuncut", "ncut", "kmeans"):
            rows = sorted((r for r in sec["runs"] if r["kind"] == kind and r["method"] == method
                           and r["status"] == "ok"), key=lambda r: r["n"])
            if not rows:
                continue
            for ax, key in zip(axes, ("wall_seconds", "peak_rss_mb")):
                ax.plot([r["n"] for r in rows], [r[key] for r in rows], marker=marker, ls=style,
                        color=colors[method], label=f"{SCALE_LABELS[method]}, {kind}")
    log_log_axes(axes, ("Wall time, end to end", "Peak resident memory"), "N (rows clustered)")
    axes[0].legend(fontsize=7)
    save_figure(fig, img)


def save_figure(fig, img):
    """Saves a matplotlib figure atomically and closes it."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(img)), exist_ok=True)
    tmp = img + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, img)


def write_lines(md, lines):
    """Writes the report atomically (a temporary file renamed over it)."""
    os.makedirs(os.path.dirname(os.path.abspath(md)), exist_ok=True)
    tmp = md + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines).rstrip() + "\n")
    os.replace(tmp, md)


def section_time(sec):
    return (f"Section time {num(sec.get('seconds'))} s; load average before {sec.get('load_average_before')}, "
            f"after {sec.get('load_average_after')}.")


# ---------------------------------------------------------------- quality (docs/quality.md)
def mean_spread(s, places=3):
    """'0.612 (0.601–0.630)' from a {mean, min, max, n} record."""
    if not s or s.get("mean") is None:
        return "–"
    if s["n"] == 1:
        return fixed(s["mean"], places)
    return f"{fixed(s['mean'], places)} ({fixed(s['min'], places)}–{fixed(s['max'], places)})"


def signed(x, places=3):
    return "–" if x is None else f"{x:+.{places}f}"


def quality_sets_table(sec):
    """Every set of the suite (sets.json) and Fashion-MNIST, whether this run measured it or not."""
    suite = sec.get("suite")
    if suite is None:  # results written before the section kept the suite: the data folder's own list
        try:
            with open(os.path.join(sec["config"]["data_folder"], "sets.json")) as f:
                suite = json.load(f)["sets"]
        except (OSError, ValueError, KeyError):
            suite = []
    records = {d["name"]: d for d in suite}
    records.update(sec["data_sets"])
    rows = []
    for name, d in records.items():
        rows.append((f"`{name}`", d.get("source", "–"), f"{d['n']:,}", d["d"], d["k"], d.get("kind", "–"),
                     d.get("image_shape") or "–", num(d.get("imbalance")), d.get("note", ""),
                     "yes" if name in sec["data_sets"] else "no"))
    return table(("set", "source (Debian package)", "rows", "features", "k", "kind", "image", "largest / smallest class",
                  "notes", "in this run"), rows)


def quality_comparison_table(sec):
    rows = []
    for c in sec["comparison"]:
        if c["status"] != "ok":
            rows.append((f"`{c['data_set']}`", "–", "–", "–", "–", "–", "–", "–", c["status"]))
            continue
        a, n = c["acc"], c["nmi"]
        rows.append((f"`{c['data_set']}`", c["features"], fixed(a["neuncut"], 3),
                     f"{fixed(a['best'], 3)} ({a['best_method']})", signed(a["delta"]), fixed(n["neuncut"], 3),
                     f"{fixed(n['best'], 3)} ({n['best_method']})", signed(n["delta"]),
                     f"{c['neuncut_collapses']}/{c['neuncut_runs']}"))
    return table(("set", "NeuNcut features", "NeuNcut ACC", "best ACC of Ncut, k-means", "Δ ACC", "NeuNcut NMI",
                  "best NMI of Ncut, k-means", "Δ NMI", "NeuNcut runs collapsed"), rows)


def quality_set_table(sec, name):
    rows = []
    for r in sec["summary"]:
        if r["data_set"] != name:
            continue
        if not r["runs_ok"]:
            rows.append((r["label"], r.get("features") or "–", "–", "–", "–", "–", "–",
                         f"0/{r['runs']}: {'; '.join(r['failures'])}"))
            continue
        rows.append((r["label"], r["features"], mean_spread(r["acc"]), mean_spread(r["nmi"]), mean_spread(r["ari"]),
                     num(med(r["wall_seconds"])), f"{r['collapses']}/{r['runs_ok']}",
                     f"{r['runs_ok']}/{r['runs']}" + (f": {'; '.join(r['failures'])}" if r["failures"] else "")))
    return table(("method", "features", "ACC mean (min–max)", "NMI", "ARI", "wall s (median)", "collapsed",
                  "runs ok"), rows)


def plot_quality(sec, img):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    sets = sec["config"]["sets"]
    names = list(dict.fromkeys(r["method"] for r in sec["summary"]))
    labels = {r["method"]: r["label"] for r in sec["summary"]}
    acc = {(r["data_set"], r["method"]): r["acc"] for r in sec["summary"]}
    fig, ax = plt.subplots(figsize=(max(8, 0.9 * len(sets) + 2), 4.8))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(sets))
    for i, m in enumerate(names):
        mean = [(acc.get((s, m)) or {}).get("mean") for s in sets]
        lo = [(acc.get((s, m)) or {}).get("min") for s in sets]
        hi = [(acc.get((s, m)) or {}).get("max") for s in sets]
        ok = [j for j, v in enumerate(mean) if v is not None]
        if not ok:
            continue
        ax.bar(x[ok] + (i - (len(names) - 1) / 2) * width, [mean[j] for j in ok], width,
               # max(0, ...): a mean of equal values can round a last bit above the min or below the max
               yerr=[[max(0.0, mean[j] - lo[j]) for j in ok], [max(0.0, hi[j] - mean[j]) for j in ok]],
               capsize=1.5, label=labels[m])
    ax.set_xticks(x)
    ax.set_xticklabels(sets, rotation=35, ha="right")
    ax.set_ylabel("ACC (mean over seeds; bars: min–max)")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.28))
    save_figure(fig, img)


def render_quality(sec, img_rel):
    c = sec["config"]
    lines = [
        f"Seeds {', '.join(map(str, c['seeds']))}; every method with its defaults, {c['threads']} "
        f"thread{'' if c['threads'] == 1 else 's'}, "
        f"time limit {num(c['timeout_s'])} s per run. NeuNcut trains on min(N, {c['train_size']:,}) rows and labels "
        "all. Features: `raw` = the rows as the data set gives them (each method then applies its own default "
        "preprocessing); `scattering` = the output of `neuncut features` (order-1 scattering), which is what "
        "NeuNcut's defaults train on for images; on image sets Ncut and k-means run on both. scikit-learn "
        f"SpectralClustering (`nearest_neighbors`, 10 neighbours, `lobpcg`) runs on raw features, SpectralNet on "
        "those its defaults choose (its features column; a run before SpectralNet took images' shape was raw); "
        f"scikit-learn only up to {c['sklearn_max_n']:,} rows. ACC (Hungarian matching), NMI (geometric) and ARI "
        "are computed by the benchmark from each run's labels. A run counts as collapsed when a cluster is empty "
        "or neuncut reports a collapse.",
        "",
    ]
    if sec.get("interrupted"):
        lines += ["**The run was interrupted**: only the sets and seeds below were measured.", ""]
    if c.get("missing"):
        lines += ["Not run (data missing): " + "; ".join(f"`{n}`: {w}" for n, w in c["missing"].items()) + ".", ""]
    lines += ["### NeuNcut against the better of Ncut and k-means on the same features", "",
              "Mean over seeds; Δ = NeuNcut − the better reference (per metric, so the two columns may name "
              "different methods); the references get the input NeuNcut got (on image sets the scattering "
              "features it trains on) and apply their own default preprocessing (L2-normalized rows), "
              "while NeuNcut applies its own (tables: standardized columns, or raw L2 rows where their kNN graph's "
              "eigengap is far clearer: docs/defaults.md).", "",
              quality_comparison_table(sec), ""]
    if img_rel:
        lines += [f"![ACC per data set and method]({img_rel})", ""]
    lines += ["### Per data set", ""]
    for name in c["sets"]:
        d = sec["data_sets"][name]
        lines += [f"#### `{name}`: {d['n']:,} x {d['d']}, k = {d['k']}", "", quality_set_table(sec, name), ""]
    lines += ["### Data sets", "",
              "Written by `scripts/quality-datasets.py` from Debian packages (`scripts/setup.sh --with-quality`) or "
              "by `neuncut generate` (seed 0); rows shuffled once (numpy seed 0), rows with a missing value dropped, "
              "categorical non-label columns dropped, image pixels in [0, 1], tabular features in their source "
              "units.", "", quality_sets_table(sec), ""]
    return lines


def merge_quality(found):
    """One quality section from several result files: a later file's runs replace the earlier
    files' runs of the same (data set, method), so a run of some methods (--quality-methods)
    updates a full run. Returns the section and, per file, the methods it contributed."""
    from sections import quality
    sec = dict(found[0][1]["sections"]["quality"])
    runs, data_sets, sets = list(sec["runs"]), dict(sec["data_sets"]), list(sec["config"]["sets"])
    for _, res in found[1:]:
        later = res["sections"]["quality"]
        pairs = {(r["data_set"], r["method"]) for r in later["runs"]}
        runs = [r for r in runs if (r["data_set"], r["method"]) not in pairs] + later["runs"]
        data_sets.update(later["data_sets"])
        sets += [n for n in later["config"]["sets"] if n not in sets]
    summary = quality.summarize(runs, data_sets, sets)
    sec.update(runs=runs, data_sets=data_sets, summary=summary, comparison=quality.compare(summary, sets),
               config=dict(sec["config"], sets=sets))
    sources = []
    for i, (_, res) in enumerate(found):
        mine = {(r["data_set"], r["method"]) for r in res["sections"]["quality"]["runs"]}
        later = set().union(*({(r["data_set"], r["method"]) for r in f[1]["sections"]["quality"]["runs"]}
                              for f in found[i + 1:]))
        sources.append(sorted({m for _, m in mine - later}))
    return sec, sources


def write_quality_report(paths, md, img):
    files = load(paths)
    found = [(p, res) for p, res in files if "quality" in res["sections"]]
    if not found:
        raise SystemExit("bench/report.py: no result file holds a quality section")
    sec, sources = merge_quality(found) if len(found) > 1 else (found[0][1]["sections"]["quality"], None)
    md_dir = os.path.dirname(os.path.abspath(md))
    lines = ["# Clustering quality across data sets", "",
             "Generated by `bench/report.py --quality` from the results of `bench/run.py --sections quality` "
             "(issue 13); every number below comes from the result file(s) named here. Do not edit by hand: rerun. "
             "On a fresh machine, from the repository root:", "",
             "```sh", "sudo scripts/setup.sh --with-peers --with-quality && scripts/build.sh",
             "bench/run.py --sections quality --out bench/results --quality-report docs/quality.md", "```", ""]
    for i, (p, res) in enumerate(found):
        run_name = f"Run {i + 1}: " if len(found) > 1 else ""
        contributed = (f" It provides the rows of {', '.join(f'`{m}`' for m in sources[i])}"
                       + (" (where a later run measured the same set and method, its rows replace these)." if i < len(found) - 1 else ".")
                       if sources else "")
        lines += [f"{run_name}results `{os.path.relpath(os.path.abspath(p), md_dir)}`; started "
                  f"{res.get('started_utc')}, took {num((res.get('duration_seconds') or 0) / 60)} min"
                  + (" (interrupted)" if res.get("interrupted") else "") + "." + contributed + " Command:", "",
                  "```sh", res.get("command", "?"), "```", "", context_table(res), ""]
    if "error" in sec:
        lines += [section_failed("quality", sec)]
    else:
        lines += ([section_time(sec), ""] if not sources else
                  [" ".join(f"Run {i + 1}: " + section_time(res["sections"]["quality"]) for i, (_, res) in
                            enumerate(found)), ""])
        img_rel = None
        if any(r["runs_ok"] for r in sec["summary"]):
            plot_quality(sec, img)
            img_rel = os.path.relpath(os.path.abspath(img), md_dir)
        lines += render_quality(sec, img_rel)
    write_lines(md, lines)


# ---------------------------------------------------------------- the report
def load(paths):
    out = []
    for p in paths:
        try:
            with open(p) as f:
                res = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f"bench/report.py: cannot read {p}: {e}")
        if res.get("schema_version") != 1 or "sections" not in res:
            raise SystemExit(f"bench/report.py: {p} is not a bench/run.py result (schema_version 1)")
        out.append((p, res))
    return out


def write_report(paths, md, img):
    files = load(paths)
    chosen = {}
    scale_runs = []  # (file index, section) of every file with a scale section that ran
    for i, (p, res) in enumerate(files):
        for name, sec in res["sections"].items():
            chosen[name] = (i, sec)
            if name == "scale" and "error" not in sec:
                # A run of every method the earlier ones ran starts afresh; a run of fewer methods
                # (k-means measured again, say) replaces just its rows of the runs before it.
                methods = set(sec.get("config", {}).get("methods") or [])
                if not scale_runs or methods >= set(scale_runs[0][1].get("config", {}).get("methods") or []):
                    scale_runs = []
                scale_runs.append((i, sec))
    if len(scale_runs) > 1:  # a later run measured some rows again (or more): merge record by record
        chosen["scale"] = (scale_runs[0][0], merge_scale(scale_runs))
    if not chosen:
        raise SystemExit("bench/report.py: the result files hold no sections")
    md_dir = os.path.dirname(os.path.abspath(md))
    lines = ["# Benchmarks", "",
             "Generated by `bench/report.py` from the results of `bench/run.py`; every number below comes "
             "from the result file(s) named here. Do not edit by hand: rerun the command(s).", ""]
    for i, (p, res) in enumerate(files):
        used = [n for n in SECTION_ORDER if n in chosen and (chosen[n][0] == i or i in chosen[n][1].get("from_runs", []))]
        if not used:
            continue
        lines += [f"## Run {i + 1}: {', '.join(used)}", "",
                  f"Results: `{os.path.relpath(os.path.abspath(p), md_dir)}`; started {res.get('started_utc')}, "
                  f"took {num((res.get('duration_seconds') or 0) / 60)} min"
                  + (" (interrupted)" if res.get("interrupted") else "") + ". Command (from the repository root):",
                  "", "```sh", res.get("command", "?"), "```", "", context_table(res), ""]
    titles = dict(step="Training step: neuncut vs PyTorch", infer="Inference throughput: neuncut vs PyTorch",
                  e2e="Fashion-MNIST end to end", scaling="Scaling with N", scale="Millions of rows")
    for name in SECTION_ORDER:
        if name not in chosen:
            continue
        i, sec = chosen[name]
        lines += [f"## {titles[name]} (`{name}`, run {i + 1})", ""]
        if "error" in sec:
            lines += [section_failed(name, sec), ""]
            continue
        lines += [section_time(sec), ""]
        if name == "step":
            lines += render_step(sec)
        elif name == "infer":
            lines += render_infer(sec)
        elif name == "e2e":
            lines += render_e2e(sec)
        elif name == "scale":
            scale_img = os.path.join(os.path.dirname(os.path.abspath(img)), "scale.png")
            img_rel = None
            if any(r["status"] == "ok" and r["method"] in SCALE_LABELS for r in sec["runs"]):
                plot_scale(sec, scale_img)
                img_rel = os.path.relpath(scale_img, md_dir)
            lines += render_scale(sec, img_rel)
        else:
            img_rel = None
            if any(r["status"] == "ok" for r in sec["summary"]):
                plot_scaling(sec, img)
                img_rel = os.path.relpath(os.path.abspath(img), md_dir)
            lines += render_scaling(sec, img_rel)
    write_lines(md, lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bench/report.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="+", help="result files of bench/run.py (later files override sections)")
    ap.add_argument("--out", default="docs/benchmarks.md", help="Markdown report (default docs/benchmarks.md)")
    ap.add_argument("--img", default=None, help="plot PNG (default: img/scaling.png, with --quality img/quality.png, "
                                                "beside the report; the scale section's plot is scale.png in "
                                                "the same folder)")
    ap.add_argument("--quality", action="store_true",
                    help="write the quality report (docs/quality.md) from the quality section instead")
    a = ap.parse_args(argv)
    if a.quality:
        out = a.out if a.out != "docs/benchmarks.md" else "docs/quality.md"
        img = a.img or os.path.join(os.path.dirname(os.path.abspath(out)), "img", "quality.png")
        write_quality_report(a.results, out, img)
        print(f"wrote {out} and {img}", file=sys.stderr)
        return 0
    img = a.img or os.path.join(os.path.dirname(os.path.abspath(a.out)), "img", "scaling.png")
    write_report(a.results, a.out, img)
    print(f"wrote {a.out}" + (f" and {img}" if os.path.exists(img) else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
