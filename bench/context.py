"""The context a benchmark result means nothing without: machine, load, software versions,
build configuration and the environment variables that change BLAS/OpenMP behaviour."""
import datetime
import os
import platform
import re
import socket
import subprocess

# CPU flags that decide which kernels run (the full list is recorded too).
SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl",
              "avx512_vnni", "avx512_bf16", "avx512ifma", "avx512vbmi", "amx_tile", "amx_bf16")
ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "GOTO", "BLIS_", "KMP_", "GOMP_", "NEUNCUT_", "PYTHONPATH", "TORCH_")


def cpu_info():
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return {"error": "/proc/cpuinfo unreadable"}
    first = text.split("\n\n")[0]
    fields = {}
    for line in first.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    flags = fields.get("flags", "").split()
    info["model"] = fields.get("model name", platform.processor() or "unknown")
    info["vendor"] = fields.get("vendor_id")
    info["family"] = fields.get("cpu family")
    info["model_number"] = fields.get("model")
    info["stepping"] = fields.get("stepping")
    info["mhz"] = fields.get("cpu MHz")
    info["cache"] = fields.get("cache size")
    info["logical_cpus"] = text.count("processor\t:")
    info["simd_flags"] = [f for f in SIMD_FLAGS if f in flags]
    info["flags"] = " ".join(flags)
    return info


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def memory_total_mb():
    text = _read("/proc/meminfo") or ""
    m = re.search(r"MemTotal:\s+(\d+) kB", text)
    return int(m.group(1)) / 1024.0 if m else None


def load_average():
    text = _read("/proc/loadavg")
    return [float(x) for x in text.split()[:3]] if text else None


def _cmd(args, cwd=None):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30, cwd=cwd).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def build_info(build_dir):
    cache = _read(os.path.join(build_dir, "CMakeCache.txt")) or ""
    keys = ("CMAKE_BUILD_TYPE", "CMAKE_CXX_COMPILER", "CMAKE_CXX_FLAGS", "CMAKE_CXX_FLAGS_RELEASE",
            "CMAKE_CXX_FLAGS_RELWITHDEBINFO", "CMAKE_INTERPROCEDURAL_OPTIMIZATION")
    out = {}
    for line in cache.splitlines():
        m = re.match(r"([A-Za-z_0-9]+):[A-Z]+=(.*)", line)
        if m and (m.group(1) in keys or m.group(1).startswith("NEUNCUT_")):
            out[m.group(1)] = m.group(2)
    if not cache:
        out["error"] = f"no CMakeCache.txt in {build_dir}"
    return out


def python_versions(python):
    """Versions seen by the interpreter that runs the peers (not necessarily this one)."""
    code = ("import json, numpy, scipy, sklearn, torch, platform\n"
            "from threadpoolctl import threadpool_info\n"
            "print(json.dumps(dict(python=platform.python_version(), numpy=numpy.__version__, scipy=scipy.__version__,"
            " sklearn=sklearn.__version__, torch=torch.__version__, torch_parallel=torch.__config__.parallel_info(),"
            " threadpools=threadpool_info())))")
    try:
        r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        return {"error": str(e)}
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else f"exit {r.returncode}"}
    import json
    return json.loads(r.stdout.strip().splitlines()[-1])


def collect(neuncut, build_dir, python, repo):
    mem = memory_total_mb()
    git_rev = _cmd(["git", "rev-parse", "HEAD"], cwd=repo)
    git_dirty = _cmd(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo)
    return dict(
        timestamp_utc=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        host=socket.gethostname(),
        kernel=platform.release(),
        os=_read("/etc/debian_version") and f"Debian {_read('/etc/debian_version')}" or platform.platform(),
        cpu=cpu_info(),
        cores_online=os.cpu_count(),
        cores_usable=len(os.sched_getaffinity(0)),
        cgroup_cpu_max=_read("/sys/fs/cgroup/cpu.max"),
        memory_total_mb=round(mem, 0) if mem else None,
        cgroup_memory_max=_read("/sys/fs/cgroup/memory.max"),
        load_average_at_start=load_average(),
        neuncut_version=_cmd([neuncut, "--version"]),
        neuncut_binary=os.path.abspath(neuncut),
        build=build_info(build_dir),
        git_commit=git_rev,
        git_dirty=bool(git_dirty) if git_dirty is not None else None,
        python_peers=python,
        versions=python_versions(python),
        env={k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)},
    )


def openblas_coretype_for_cpu(cpu):
    """OPENBLAS_CORETYPE for the peers, from the flags of the CPU the benchmark runs on: (value, why).
    Forcing the kernel set keeps the peers off OpenBLAS's fallbacks for CPUs it does not know;
    forcing one the CPU cannot run kills them (SkylakeX on an AVX2-only CPU: SIGILL). "" = unset."""
    flags = set(cpu.get("flags", "").split())
    if {"avx512f", "avx512bw", "avx512vl"} <= flags:
        return "SkylakeX", "the CPU has AVX-512 F, BW and VL"
    if "avx2" in flags:
        if cpu.get("vendor") == "AuthenticAMD":
            return "Zen", "AMD CPU with AVX2 and without AVX-512"
        return "Haswell", "AVX2 without AVX-512"
    return "", "no AVX2: left to OpenBLAS's own detection"


def openblas_in_use(python, coretype):
    """What the peers' OpenBLAS does under OPENBLAS_CORETYPE=coretype: the kernel set it reports
    (openblas_get_corename, through threadpoolctl) after a small GEMM ran, or why it failed."""
    code = ("import json, numpy\nfrom threadpoolctl import threadpool_info\n"
            "a = numpy.ones((256, 256)); (a @ a).sum()\n"
            "print(json.dumps([p.get('architecture') for p in threadpool_info() if p.get('internal_api') == 'openblas']))")
    env = os.environ.copy()
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    try:
        r = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    except (OSError, subprocess.SubprocessError) as e:
        return dict(ok=False, error=str(e))
    if r.returncode != 0:
        why = f"killed by signal {-r.returncode}" if r.returncode < 0 else f"exit {r.returncode}"
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        return dict(ok=False, error=f"a 256x256 GEMM with OPENBLAS_CORETYPE={coretype or '(unset)'} failed: {why} {last}".strip())
    import json
    cores = json.loads(r.stdout.strip().splitlines()[-1])
    return dict(ok=True, corename=cores[0] if cores else None,
                note=None if cores else "numpy does not load OpenBLAS (reference BLAS?)")
