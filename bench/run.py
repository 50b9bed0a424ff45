#!/usr/bin/python3
"""neuncut benchmark suite: neuncut against its peers on the same data with the same settings,
each run in its own process, runs of the compared programs alternating (A B A B ...), several
repetitions, medians and ratios, and the machine/software context recorded with the results.

Sections (--sections, comma-separated; default all):
  step     time of one NeuNcut training step (batch 1000, d 784, MLP 512-512-k): neuncut at each
           --step-threads vs the PyTorch implementation (bench/torch_neuncut.py) at each
           --torch-step-threads; seconds/step, GFLOP/s, ratios. With --bf16, neuncut also with
           --precision bf16 (docs/mixed-precision.md), in the same alternation.
  infer    labelling throughput (rows/s) on Fashion-MNIST: `neuncut predict` vs the PyTorch
           network forward in --chunk-rows chunks, at each --infer-threads; with --bf16, also a
           model trained with --precision bf16 (it predicts in bf16).
  e2e      Fashion-MNIST end to end (train --train-size, label all): ACC/NMI/ARI, time and memory of
           neuncut NeuNcut (on scattering features, its default for images, and on pixels), the
           PyTorch NeuNcut (pixels; same sigma and epochs as neuncut's run on pixels), neuncut Ncut,
           k-means and SpectralNet, scikit-learn SpectralClustering and KMeans, and Ncut and
           scikit-learn KMeans on the scattering features (methods named *-scattering).
  scaling  time and peak memory vs N (--scaling-sizes; above 70,000: jittered Fashion-MNIST
           replicas) with a time limit and a memory cap; a method that fails at some N is
           recorded as infeasible and not run at larger N.
  scale    issue 14's targets at millions of rows: --scale-images Fashion-MNIST-like uint8 images
           (default 1M, 5M, 10M) and --scale-points 2-D blobs (default 20M); NeuNcut (fit on
           --train-size rows it reads itself, labels of all streamed), landmark Ncut and k-means (on the images'
           scattering features; exact Ncut on the 70,000 originals as their reference), NeuNcut on
           --scale-mpi-ranks MPI ranks; time, peak RSS, ACC, labelling rate. Not in the default list.
  quality  clustering quality (issue 13) over the quality suite (scripts/quality-datasets.py),
           Fashion-MNIST and synthetic sets x --quality-seeds: NeuNcut (defaults), Ncut and
           k-means on the same features (images: scattering and raw), scikit-learn
           SpectralClustering and SpectralNet; ACC/NMI/ARI mean and spread, time, collapses.
           --quality-report writes docs/quality.md and its plot. Not in the default list.

Output: one JSON file per invocation in --out (bench-<UTC time>.json, also copied to
latest.json), written after every section; with --report, the Markdown report and the scaling
plot (bench/report.py can also make them later, from one or several result files).

Peers run with Debian's Python (--python), OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to their
thread count, and OPENBLAS_CORETYPE from --coretype (default auto: chosen from this CPU's flags,
then checked by running a GEMM with it; the choice and the kernel set OpenBLAS reports are in the
results' settings.coretype_check). Exit status: 0 all runs succeeded, 1 some runs
failed (recorded in the results), 2 bad arguments or missing prerequisites, 130 interrupted."""
import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path.insert(0, BENCH_DIR)

SECTIONS = ("step", "infer", "e2e", "scaling", "scale", "quality")
DEFAULT_SECTIONS = ("step", "infer", "e2e", "scaling")
SCHEMA_VERSION = 1


def _int_list(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values:
        raise argparse.ArgumentTypeError("empty list")
    return values


def _size_list(text):
    out = []
    for v in text.split(","):
        v = v.strip().lower()
        if not v:
            continue
        mult = 1000 if v.endswith("k") else 1000000 if v.endswith("m") else 1
        try:
            out.append(int(float(v.rstrip("km")) * mult))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected sizes like 10000,20k,1m, got {text!r}")
    if not out:
        raise argparse.ArgumentTypeError("empty list")
    return out


def _str_list(text):
    return [v.strip() for v in text.split(",") if v.strip()]


def parse_args(argv=None):
    import methods

    cores = len(os.sched_getaffinity(0))
    both = sorted({1, cores})
    epilog = "methods (--e2e-methods, --scaling-methods):\n" + "\n".join(
        f"  {name:17s} {label}: {impl}" for name, (label, impl) in methods.METHODS.items())
    epilog += ("\n\nexample, the full suite (hours on 2 cores; see bench/README.md):\n"
               "  bench/run.py --sections step,infer,e2e,scaling --reps 5 --out bench/results \\\n"
               "      --report docs/benchmarks.md\n"
               "a smoke test (about a minute):\n"
               "  bench/run.py --reps 1 --step-train-size 2000 --step-epochs 1 --infer-rows 5000 --e2e-rows 3000 \\\n"
               "      --train-size 2000 --epochs 2 --spectralnet-epochs 1 --scaling-sizes 2000,5000 \\\n"
               "      --out /tmp/bench-smoke")
    ap = argparse.ArgumentParser(prog="bench/run.py", description=__doc__, epilog=epilog,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_argument_group("what to run and where results go")
    g.add_argument("--sections", type=_str_list, default=list(DEFAULT_SECTIONS),
                   help=f"comma-separated sections to run, in this order, of {','.join(SECTIONS)} "
                        f"(default: {','.join(DEFAULT_SECTIONS)})")
    g.add_argument("--reps", type=int, default=5,
                   help="repetitions of every configuration in step and infer (default 5)")
    g.add_argument("--out", default=os.path.join(BENCH_DIR, "results"),
                   help="folder for the results JSON (default bench/results)")
    g.add_argument("--report", default=None, metavar="MD",
                   help="also write the Markdown report here, e.g. docs/benchmarks.md (default: none; "
                        "bench/report.py makes it later)")
    g.add_argument("--img", default=None,
                   help="scaling plot PNG for --report (default: img/scaling.png beside the report)")
    g = ap.add_argument_group("programs, machine and limits")
    g.add_argument("--neuncut", default=os.path.join(REPO, "build", "neuncut"),
                   help="the neuncut CLI (default build/neuncut)")
    g.add_argument("--build-dir", default=None,
                   help="its CMake build folder, for the build type (default: the CLI's folder)")
    g.add_argument("--python", default="/usr/bin/python3",
                   help="interpreter for the PyTorch and scikit-learn peers (default /usr/bin/python3)")
    g.add_argument("--threads", type=int, default=cores,
                   help=f"threads of neuncut and scikit-learn in e2e and scaling (default: usable cores, {cores})")
    g.add_argument("--torch-threads", type=int, default=1,
                   help="threads of the PyTorch peer in e2e and scaling (default 1, its fastest configuration here)")
    g.add_argument("--coretype", default="auto",
                   help="OPENBLAS_CORETYPE for the Python peers: auto = from this CPU (AVX-512 F/BW/VL: SkylakeX; "
                        "AVX2 on AMD: Zen; AVX2: Haswell; otherwise unset), '' leaves it unset, any other value is "
                        "used as given (default auto)")
    g.add_argument("--bf16", choices=("auto", "on", "off"), default="auto",
                   help="also run neuncut with --precision bf16 in step and infer: auto = when `neuncut --version` "
                        "says bf16 is available (default auto)")
    g.add_argument("--eigen-fp32", choices=("auto", "on", "off"), default="auto",
                   help="also run neuncut fp32 with NEUNCUT_FP32_GEMM=eigen (Eigen's GEMM instead of oneDNN's) in step: "
                        "auto = when `neuncut --version` says fp32 products run through oneDNN (default auto)")
    g.add_argument("--seed", type=int, default=0, help="seed of every method and of the data subsets (default 0)")
    g.add_argument("--k", type=int, default=10, help="clusters (default 10)")
    g.add_argument("--timeout", type=float, default=900, help="time limit of one run, seconds (default 900)")
    g.add_argument("--mem-cap-gb", type=float, default=None,
                   help="memory cap of one run (resident, its process tree), GiB (default: 85%% of RAM)")
    g.add_argument("--workdir", default=None, help="folder for data files and labels (default: a new temporary one)")
    g.add_argument("--keep-data", action="store_true", help="keep the work folder and the synthetic data sets")
    g = ap.add_argument_group("step section")
    g.add_argument("--step-train-size", type=int, default=20000, help="Fashion-MNIST rows trained on (default 20000)")
    g.add_argument("--step-epochs", type=int, default=3, help="epochs per timed run (default 3)")
    g.add_argument("--batch-size", type=int, default=1000,
                   help="mini-batch size m in step, infer and e2e (default 1000)")
    g.add_argument("--sigma", type=float, default=0.5, help="fixed Gaussian bandwidth in step (default 0.5)")
    g.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate in step (default 0.001)")
    g.add_argument("--step-threads", type=_int_list, default=both,
                   help=f"neuncut thread counts (default {','.join(map(str, both))})")
    g.add_argument("--torch-step-threads", type=_int_list, default=both,
                   help=f"PyTorch thread counts (default {','.join(map(str, both))})")
    g = ap.add_argument_group("infer section")
    g.add_argument("--infer-rows", type=int, default=0, help="rows labelled; 0: all 70,000 (default 0)")
    g.add_argument("--infer-threads", type=_int_list, default=both,
                   help=f"thread counts, each for both programs (default {','.join(map(str, both))})")
    g.add_argument("--chunk-rows", type=int, default=10000,
                   help="rows per inference chunk, both programs (default 10000)")
    g = ap.add_argument_group("e2e section")
    g.add_argument("--e2e-rows", type=int, default=0,
                   help="Fashion-MNIST rows clustered (a seeded subset); 0: all 70,000 (default 0)")
    g.add_argument("--e2e-reps", type=int, default=1, help="repetitions of each method (default 1)")
    e2e_default = [m for m in methods.METHODS if m not in methods.QUALITY_ONLY]
    g.add_argument("--e2e-methods", type=_str_list, default=e2e_default,
                   help=f"methods, run in this order (default {','.join(e2e_default)})")
    g.add_argument("--train-size", type=int, default=20000,
                   help="NeuNcut training sample in e2e and scaling, neuncut and PyTorch (default 20000)")
    g.add_argument("--epochs", type=int, default=0,
                   help="NeuNcut epochs in e2e and scaling; 0: neuncut's automatic choice, which the PyTorch "
                        "peer then copies (default 0)")
    g.add_argument("--spectralnet-epochs", type=int, default=0, help="SpectralNet epochs; 0: neuncut's default")
    g = ap.add_argument_group("scaling section")
    g.add_argument("--scaling-sizes", type=_size_list, default=[10000, 20000, 70000, 140000, 280000, 560000],
                   help="N values; above 70,000 jittered Fashion-MNIST replicas (default 10k,20k,70k,140k,280k,560k)")
    g.add_argument("--scaling-methods", type=_str_list, default=["neuncut", "ncut", "sklearn-spectral"],
                   help="methods (default neuncut,ncut,sklearn-spectral; any e2e method works)")
    g.add_argument("--scaling-reps", type=int, default=1, help="repetitions at each N (default 1)")
    g.add_argument("--jitter", type=float, default=0.1,
                   help="std of the Gaussian jitter of the replicas, in pixel units of [0, 1] (default 0.1: at 0.01 "
                        "the copies are near-duplicates, which break kNN graphs into many components)")
    g = ap.add_argument_group("scale section")
    g.add_argument("--scale-images", type=_size_list, default=[1000000, 5000000, 10000000],
                   help="image counts N (uint8 on disk: 784 bytes each; default 1M,5M,10M)")
    g.add_argument("--scale-points", type=_size_list, default=[20000000],
                   help="2-D point counts N (default 20M)")
    g.add_argument("--scale-methods", type=_str_list, default=["neuncut", "ncut", "kmeans"],
                   help="of neuncut (fit on --train-size rows, streamed predict), ncut (landmark solver), kmeans "
                        "(default all three)")
    g.add_argument("--scale-kmeans-images-max", type=lambda t: _size_list(t)[-1], default=None, metavar="N",
                   help="the largest image count at which kmeans runs (a shorter run: kmeans streams the "
                        "features, one pass per Lloyd iteration after its sample's restarts); above it, recorded "
                        "as skipped (default: no limit)")
    g.add_argument("--scale-mpi-ranks", type=_int_list, default=[1, 2],
                   help="MPI rank counts for `mpirun -np R neuncut predict` (compared byte for byte with one "
                        "process) and, for R > 1, data-parallel `fit` (ACC against one process), run at the "
                        "smallest image count; needs mpirun and a neuncut built with MPI, else recorded as "
                        "skipped; 0: none (default 1,2)")
    g = ap.add_argument_group("quality section")
    g.add_argument("--quality-sets", type=_str_list, default=None,
                   help="data sets, in this order: names from `scripts/quality-datasets.py --list` and fashion-mnist "
                        "(default: all of them)")
    g.add_argument("--quality-seeds", type=_int_list, default=[0, 1, 2], help="seeds of every method (default 0,1,2)")
    g.add_argument("--quality-methods", type=_str_list, default=None,
                   help="run only these methods (default: all; names as in the report's method column: neuncut, "
                        "ncut, kmeans, ncut-scattering, kmeans-scattering, sklearn-spectral, spectralnet). A run of "
                        "some methods can update an earlier full run: bench/report.py --quality FULL.json PART.json")
    g.add_argument("--quality-data", default=os.path.join(REPO, "data", "quality"),
                   help="folder of the suite's .npy files; missing sets are written there first (default data/quality)")
    g.add_argument("--quality-fmnist-rows", type=int, default=0,
                   help="Fashion-MNIST rows (a seeded subset); 0: all 70,000 (default 0)")
    g.add_argument("--quality-sklearn-max-n", type=int, default=20000,
                   help="scikit-learn SpectralClustering only up to this many rows (default 20000)")
    g.add_argument("--quality-report", default=None, metavar="MD",
                   help="write the quality report here, e.g. docs/quality.md (default: none; bench/report.py "
                        "--quality makes it later)")
    g.add_argument("--quality-img", default=None,
                   help="quality plot PNG (default: img/quality.png beside the quality report)")
    a = ap.parse_args(argv)

    errors = []
    unknown = [s for s in a.sections if s not in SECTIONS]
    if unknown:
        errors.append(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    for name in ("e2e_methods", "scaling_methods"):
        bad = [m for m in getattr(a, name) if m not in methods.METHODS]
        if bad:
            errors.append(f"--{name.replace('_', '-')}: unknown method(s) {', '.join(bad)}; "
                          f"known: {', '.join(methods.METHODS)}")
    bad = [m for m in a.scale_methods if m not in ("neuncut", "ncut", "kmeans")]
    if bad:
        errors.append(f"--scale-methods: unknown method(s) {', '.join(bad)}; known: neuncut, ncut, kmeans")
    for name in ("reps", "e2e_reps", "scaling_reps", "threads", "torch_threads", "step_epochs", "batch_size",
                 "chunk_rows"):
        if getattr(a, name) < 1:
            errors.append(f"--{name.replace('_', '-')} must be >= 1, got {getattr(a, name)}")
    for name in ("step_threads", "torch_step_threads", "infer_threads"):
        if min(getattr(a, name)) < 1:
            errors.append(f"--{name.replace('_', '-')}: thread counts must be >= 1")
    if a.k < 2:
        errors.append(f"--k must be >= 2, got {a.k}")
    if a.batch_size < a.k:
        errors.append(f"--batch-size ({a.batch_size}) must be >= k ({a.k})")
    if a.step_train_size < a.batch_size:
        errors.append(f"--step-train-size ({a.step_train_size}) must be >= --batch-size ({a.batch_size})")
    if a.quality_sets is not None and "quality" in a.sections:
        from sections import quality
        known = quality.default_sets()
        bad = [n for n in a.quality_sets if n not in known]
        if bad:
            errors.append(f"--quality-sets: unknown set(s) {', '.join(bad)}; known: {', '.join(known)}")
    if a.quality_methods is not None and "quality" in a.sections:
        from sections import quality
        bad = [n for n in a.quality_methods if n not in quality.ALL_METHODS]
        if bad or not a.quality_methods:
            errors.append(f"--quality-methods: unknown method(s) {', '.join(bad) or '(none given)'}; "
                          f"known: {', '.join(quality.ALL_METHODS)}")
    if min(a.quality_seeds) < 0 or a.quality_fmnist_rows < 0:
        errors.append("--quality-seeds and --quality-fmnist-rows must be >= 0")
    if min(a.scaling_sizes) <= a.k:
        errors.append(f"--scaling-sizes must all exceed k ({a.k})")
    if a.sigma <= 0 or a.lr <= 0 or a.timeout <= 0 or a.jitter < 0:
        errors.append("--sigma, --lr and --timeout must be > 0 and --jitter >= 0")
    if errors:
        ap.error("; ".join(errors))
    return a


class Harness:
    """What every section needs: the arguments, the data store, the programs, the limits, a log."""

    def __init__(self, args, store, workdir, mem_cap_mb):
        self.args, self.store, self.workdir, self.mem_cap_mb = args, store, workdir, mem_cap_mb
        self.neuncut, self.python = args.neuncut, args.python
        self.t0 = time.perf_counter()

    def log(self, msg):
        print(f"[{time.perf_counter() - self.t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    def method_config(self):
        import methods
        a = self.args
        return methods.Config(neuncut=a.neuncut, python=a.python, threads=a.threads, torch_threads=a.torch_threads,
                              seed=a.seed, k=a.k, train_size=a.train_size, epochs=a.epochs,
                              batch_size=a.batch_size, spectralnet_epochs=a.spectralnet_epochs, coretype=a.coretype)


def preflight(a):
    """Missing programs, data or packages stop the run before anything is measured."""
    import datasets
    problems = []
    if not (os.path.isfile(a.neuncut) and os.access(a.neuncut, os.X_OK)):
        problems.append(f"neuncut CLI not found or not executable: {a.neuncut} (build it: cmake --build build)")
    else:
        r = subprocess.run([a.neuncut, "--version"], capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"{a.neuncut} --version failed: {r.stderr.strip()}")
        else:
            available = "bf16: available" in r.stdout
            if a.bf16 == "on" and not available:
                problems.append(f"--bf16 on, but {a.neuncut} cannot run bf16: {r.stdout.strip()}")
            a.bf16_runs = a.bf16 == "on" or (a.bf16 == "auto" and available)
            onednn_fp32 = "fp32 products: oneDNN" in r.stdout
            if a.eigen_fp32 == "on" and not onednn_fp32:
                problems.append(f"--eigen-fp32 on, but {a.neuncut} runs fp32 products through Eigen already: "
                                f"{r.stdout.strip()}")
            a.eigen_runs = a.eigen_fp32 == "on" or (a.eigen_fp32 == "auto" and onednn_fp32)
    needs_peers = bool({"step", "infer"} & set(a.sections)) or any(
        m.startswith(("torch", "sklearn")) for s, ms in (("e2e", a.e2e_methods), ("scaling", a.scaling_methods))
        if s in a.sections for m in ms)
    if needs_peers:
        r = subprocess.run([a.python, "-c", "import numpy, scipy, sklearn, torch, threadpoolctl"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"
            problems.append(f"{a.python} cannot import the peers' packages ({last}); install python3-torch, "
                            "python3-sklearn, python3-scipy (Debian)")
    if "quality" in a.sections:
        r = subprocess.run([a.python, "-c", "import numpy, scipy, sklearn, threadpoolctl"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            problems.append(f"{a.python} cannot import scikit-learn for the quality section; install python3-sklearn")
    check_coretype(a, run_gemm=(needs_peers or "quality" in a.sections) and not problems)
    if not a.coretype_check.get("ok", True):
        problems.append(f"{a.coretype_check['error']}; choose another --coretype ('' leaves it unset)")
    try:
        datasets.check_fashion_mnist()
    except datasets.DataError as e:
        problems.append(str(e))
    try:
        os.makedirs(a.out, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=a.out, delete=True)
        probe.close()
    except OSError as e:
        problems.append(f"cannot write results to {a.out}: {e}")
    return problems


def check_coretype(a, run_gemm):
    """Resolves --coretype auto from this CPU and (when peers run) checks what OpenBLAS does with
    the choice; both go into the results (settings.coretype_check) and the report."""
    import context
    requested = a.coretype
    if requested == "auto":
        a.coretype, why = context.openblas_coretype_for_cpu(context.cpu_info())
    else:
        why = "given with --coretype"
    a.coretype_check = dict(requested=requested, chosen=a.coretype, reason=why)
    if run_gemm:
        a.coretype_check.update(context.openblas_in_use(a.python, a.coretype))
        used = a.coretype_check.get("corename")
        if a.coretype and used and used.lower() != a.coretype.lower():
            a.coretype_check["note"] = f"OpenBLAS runs {used} kernels, not the {a.coretype} asked for"


def command_line(argv):
    script = os.path.relpath(os.path.abspath(__file__), os.getcwd())
    return " ".join([shlex.quote(script if not script.startswith("..") else os.path.abspath(__file__))]
                    + [shlex.quote(x) for x in argv])


def save(results, path, latest):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1, default=str)
        f.write("\n")
    os.replace(tmp, path)
    shutil.copyfile(path, latest)


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGTERM, _terminate)  # `kill` saves the results so far, as Ctrl-C does
    import importlib
    try:
        for module in ("numpy", "scipy", "sklearn"):  # the driver scores the labels itself
            importlib.import_module(module)
    except ImportError as e:
        sys.exit(f"bench/run.py: {e}; run it with Debian's Python: /usr/bin/python3 bench/run.py ...")
    a = parse_args(argv)
    problems = preflight(a)
    if problems:
        for p in problems:
            print(f"bench/run.py: {p}", file=sys.stderr)
        return 2

    import context
    import datasets
    from sections import e2e, infer, quality, scale, scaling, step
    runners = dict(step=step.run, infer=infer.run, e2e=e2e.run, scaling=scaling.run, scale=scale.run,
                   quality=quality.run)

    mem_total = context.memory_total_mb() or 0
    mem_cap_mb = a.mem_cap_gb * 1024 if a.mem_cap_gb else (0.85 * mem_total if mem_total else None)
    build_dir = a.build_dir or os.path.dirname(os.path.abspath(a.neuncut))
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    out_path = os.path.join(a.out, f"bench-{stamp}.json")
    latest = os.path.join(a.out, "latest.json")
    h = Harness(a, None, None, mem_cap_mb)
    h.log(f"collecting the machine context; results will go to {out_path}")
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    results = dict(schema_version=SCHEMA_VERSION, tool="bench/run.py", command=command_line(argv),
                   cwd=os.getcwd(), started_utc=started,
                   context=context.collect(a.neuncut, build_dir, a.python, REPO),
                   settings={k: v for k, v in vars(a).items()}, mem_cap_mb=mem_cap_mb, sections={})
    save(results, out_path, latest)
    h.workdir = a.workdir or tempfile.mkdtemp(prefix="neuncut-bench-")
    os.makedirs(h.workdir, exist_ok=True)
    h.store = datasets.DataStore(h.workdir, seed=a.seed, jitter=a.jitter)
    failed = 0
    status = 0
    try:
        for name in a.sections:
            h.log(f"section {name}: start")
            t = time.perf_counter()
            load_before = context.load_average()
            try:
                section = runners[name](h)
            except (RuntimeError, ValueError, OSError, datasets.DataError) as e:
                h.log(f"section {name}: FAILED: {e}")
                section = dict(error=str(e))
                failed += 1
            section.update(seconds=round(time.perf_counter() - t, 1), load_average_before=load_before,
                           load_average_after=context.load_average())
            failed += sum(1 for r in section.get("runs", []) if r.get("status") not in ("ok", "skipped")
                          and not (name in ("scaling", "scale") and r.get("status") in ("timeout", "memory")))
            results["sections"][name] = section
            save(results, out_path, latest)
            h.log(f"section {name}: done in {section['seconds']:.0f} s")
    except KeyboardInterrupt:
        partial = getattr(h, "partial_section", None)  # a section that keeps its runs so far (quality)
        if partial and name not in results["sections"]:
            partial.update(seconds=round(time.perf_counter() - t, 1), load_average_before=load_before,
                           load_average_after=context.load_average())
            results["sections"][name] = partial
        h.log("interrupted: the results so far are saved")
        results["interrupted"] = True
        status = 130
    finally:
        results["finished_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        results["duration_seconds"] = round(time.perf_counter() - h.t0, 1)
        results["load_average_at_end"] = context.load_average()
        save(results, out_path, latest)
        if not a.keep_data and not a.workdir:
            shutil.rmtree(h.workdir, ignore_errors=True)
    h.log(f"results: {out_path}")
    if a.report and status == 0 and set(results["sections"]) - {"quality"}:
        import report
        img = a.img or os.path.join(os.path.dirname(os.path.abspath(a.report)), "img", "scaling.png")
        report.write_report([out_path], a.report, img)
        h.log(f"report: {a.report}" + (f", plot: {img}" if "scaling" in results["sections"] else ""))
    if a.quality_report and status == 0 and "quality" in results["sections"]:
        import report
        img = a.quality_img or os.path.join(os.path.dirname(os.path.abspath(a.quality_report)), "img", "quality.png")
        report.write_quality_report([out_path], a.quality_report, img)
        h.log(f"quality report: {a.quality_report}, plot: {img}")
    if status:
        return status
    if failed:
        h.log(f"{failed} run(s) failed; see 'status' and 'message' in the results")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # before the first section (the sections save what they have)
        print("bench/run.py: interrupted", file=sys.stderr)
        sys.exit(130)
