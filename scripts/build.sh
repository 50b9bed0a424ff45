#!/usr/bin/env bash
# Installs the dependencies (scripts/setup.sh, Debian packages) and builds everything into
# build/: library, CLI (build/neuncut), tests, and the Python module (build/python), then
# (as root) pip-installs the Python package for Debian's /usr/bin/python3 (so `import neuncut`
# and the `neuncut` command work).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh "$@"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNEUNCUT_BUILD_TESTS=ON -DNEUNCUT_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j"$(nproc)"
# As root, also pip-installs the package from this build (NEUNCUT_BUILD_DIR=build: setup.py
# only packages the targets already built) for /usr/bin/python3, into /usr/local, where
# `pip uninstall --break-system-packages neuncut` removes it; this puts the `neuncut` command
# on PATH (/usr/local/bin). Debian's pip needs --break-system-packages for any install outside a
# virtual environment (PEP 668); it never touches Debian's own /usr/lib/python3 files.
if [[ $(id -u) -eq 0 ]]; then
  NEUNCUT_BUILD_DIR="$root/build" /usr/bin/python3 -m pip install --no-build-isolation --no-index \
    --break-system-packages --disable-pip-version-check -q "$root"
fi
