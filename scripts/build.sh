#!/usr/bin/env bash
# Installs the dependencies (scripts/setup.sh, Debian packages) and builds everything into
# build/: library, CLI (build/neuncut), tests, and the Python module (build/python).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh "$@"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNEUNCUT_BUILD_TESTS=ON -DNEUNCUT_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j"$(nproc)"
