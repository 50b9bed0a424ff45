#!/usr/bin/env bash
# Installs the neuncut Python package (and its `neuncut` command) with pip, offline, from this
# checkout: a thin wrapper over
#   PYTHON -m pip install --no-build-isolation --no-index [--break-system-packages] ROOT
# (setup.py builds neuncut._core and the CLI with CMake; docs/python.md, "Installing").
# `pip uninstall neuncut` removes it again.
#
# Usage: scripts/install-python.sh [--python PATH] [pip install options...]
#   --python   interpreter to install for (default: /usr/bin/python3, Debian's, which has numpy
#              and scikit-learn from scripts/setup.sh). Debian marks its interpreter
#              "externally managed" (PEP 668); outside a virtual environment this script passes
#              --break-system-packages, which installs into /usr/local (never /usr).
#   other options go to pip, e.g. --target DIR, --user, --force-reinstall.
# Environment: NEUNCUT_BUILD_DIR, NEUNCUT_CMAKE_ARGS, CMAKE_BUILD_PARALLEL_LEVEL (see setup.py).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=/usr/bin/python3
pip_args=()
while (($#)); do
  case "$1" in
    --python) python="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) pip_args+=("$1") ;;
  esac
  shift
done

"$python" -c "import numpy, sklearn, setuptools, wheel" 2>/dev/null || {
  echo "install-python.sh: $python lacks numpy, scikit-learn, setuptools or wheel; run scripts/setup.sh (Debian packages) first" >&2
  exit 1
}
# In a virtual environment sys.prefix differs from sys.base_prefix; only outside one does
# Debian's pip refuse without --break-system-packages.
if "$python" -c "import sys; sys.exit(sys.prefix != sys.base_prefix)"; then
  pip_args=(--break-system-packages "${pip_args[@]}")
fi
"$python" -m pip install --no-build-isolation --no-index "${pip_args[@]}" "$root"
# Where the interpreter now imports it from; not for installs elsewhere (--target, --prefix,
# --root), where it would report whatever other copy is on its path.
case " ${pip_args[*]} " in
  *" --target"*|*" -t "*|*" --prefix"*|*" --root"*) echo "install-python.sh: installed (${pip_args[*]})" ;;
  *) cd / && "$python" -c "import neuncut; print('install-python.sh: neuncut', neuncut.__version__, 'from', neuncut.__path__[0])" ;;
esac
