"""The ``neuncut`` command that pip installs: runs the CLI binary shipped in the package.

The binary (neuncut/bin/neuncut, built by setup.py from the same CMake tree as ``_core``) is
exec'd, so exit statuses, signals and output are the CLI's own. ``NEUNCUT_PYTHON`` is set to
this interpreter (unless already set) so that ``neuncut export`` runs the ONNX exporter with
the interpreter that has this package installed.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional


def binary() -> Path:
    """Path of the CLI binary inside the installed package."""
    return Path(__file__).resolve().parent / "bin" / "neuncut"


def main(argv: Optional[List[str]] = None) -> int:
    """Replaces this process with the CLI; returns 1 only when the binary is missing."""
    exe = binary()
    if not os.access(exe, os.X_OK):
        print(f"neuncut: error: the CLI binary {exe} is missing; this neuncut package was not installed by pip "
              "(run the CLI from the CMake build: build/neuncut)", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env.setdefault("NEUNCUT_PYTHON", sys.executable)
    args = sys.argv[1:] if argv is None else list(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(exe, ["neuncut", *args], env)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
