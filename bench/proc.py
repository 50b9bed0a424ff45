"""Runs one benchmarked program in its own process (and process group), with a wall-clock
limit and a memory cap, and measures its wall time and peak resident memory.

Peak memory is the larger of the kernel's maximum RSS of the program, as GNU time reports it
(`/usr/bin/time -f %M`: the program runs under time, so the figure is not inflated by the
driver's own memory, which a forked child inherits in its ru_maxrss), and the RSS of the
program's process tree sampled every `poll` seconds (which also enforces the cap). Without
/usr/bin/time only the sampled figure is used."""
import json
import os
import signal
import tempfile
import time
from dataclasses import dataclass, field

import subprocess

GNU_TIME = "/usr/bin/time"


@dataclass
class RunResult:
    cmd: list
    status: str               # ok | error | timeout | memory | interrupted
    returncode: int
    wall_seconds: float
    peak_rss_mb: float
    stdout: str
    stderr_tail: str
    summary: dict = field(default_factory=dict)   # the last JSON line of stdout, if any
    message: str = ""
    stderr: str = ""                               # all of it (not saved in results)

    @property
    def ok(self):
        return self.status == "ok"

    def as_dict(self, keep_stdout=False):
        d = dict(cmd=" ".join(self.cmd), status=self.status, returncode=self.returncode,
                 wall_seconds=round(self.wall_seconds, 4), peak_rss_mb=round(self.peak_rss_mb, 1))
        if self.message:
            d["message"] = self.message
        if not self.ok:
            d["stderr_tail"] = self.stderr_tail
        if keep_stdout:
            d["stdout"] = self.stdout
        return d


def _tree_pids(pid):
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def _rss_mb(pids):
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024.0


def _last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                return {}
    return {}


def run(cmd, env=None, timeout=None, mem_cap_mb=None, poll=0.25, cwd=None):
    """Runs `cmd` (a list) to completion, or kills its process group when it passes `timeout`
    seconds or `mem_cap_mb` of resident memory. Never raises for a failing child; KeyboardInterrupt
    kills the child and is re-raised."""
    cmd = [str(c) for c in cmd]
    use_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r", suffix=".time") as tfile:
        argv = [GNU_TIME, "-f", "%M", "-o", tfile.name, *cmd] if use_time else cmd
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        except OSError as e:
            return RunResult(cmd, "error", -1, 0.0, 0.0, "", str(e), message=f"cannot start: {e}")
        status, peak, ru_kb, rc = None, 0.0, 0, None  # ru_kb: GNU time's figure
        try:
            while True:
                pid, wstatus, _ = os.wait4(proc.pid, os.WNOHANG)
                if pid != 0:
                    rc = os.waitstatus_to_exitcode(wstatus)
                    break
                peak = max(peak, _rss_mb(_tree_pids(proc.pid)))
                elapsed = time.perf_counter() - t0
                if timeout is not None and elapsed > timeout:
                    status = "timeout"
                elif mem_cap_mb is not None and peak > mem_cap_mb:
                    status = "memory"
                if status:
                    _kill(proc)
                    _, wstatus, _ = os.wait4(proc.pid, 0)
                    rc = os.waitstatus_to_exitcode(wstatus)
                    break
                time.sleep(poll)
        except KeyboardInterrupt:
            _kill(proc)
            try:
                os.wait4(proc.pid, 0)
            except ChildProcessError:
                pass
            raise
        finally:
            proc.returncode = rc if rc is not None else proc.returncode
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        if use_time:
            rc, ru_kb = _time_report(tfile.read(), rc)
    peak = max(peak, ru_kb / 1024.0)
    tail = "\n".join(stderr.strip().splitlines()[-15:])
    message = ""
    if status == "timeout":
        message = f"killed after {timeout:g} s (time limit)"
    elif status == "memory":
        message = f"killed at {peak:.0f} MB resident (memory cap {mem_cap_mb:.0f} MB)"
    elif rc != 0:
        status = "error"
        if rc == -signal.SIGKILL:
            message = "killed by SIGKILL (out of memory?)"
            status = "memory"
        else:
            last = tail.splitlines()[-1] if tail else ""
            message = f"exit code {rc}: {last}"
    else:
        status = "ok"
    return RunResult(cmd, status, rc, wall, peak, stdout, tail, _last_json(stdout), message, stderr)


def _time_report(text, rc):
    """(exit code of the program, its max RSS in KiB) from GNU time's -o file; time exits with
    128 + signal when the program was killed, which is turned back into -signal."""
    lines = text.strip().splitlines()
    kb = int(lines[-1]) if lines and lines[-1].strip().isdigit() else 0
    for line in lines:
        if line.startswith("Command terminated by signal"):
            rc = -int(line.split()[-1])
    return rc, kb


def _kill(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
