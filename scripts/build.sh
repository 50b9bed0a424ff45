#!/usr/bin/env bash
# Installs the dependencies (scripts/setup.sh, Debian packages) and builds everything into
# build/: library, CLI (build/neuncut), tests, and the Python module (build/python), then
# installs the Python package for Debian's /usr/bin/python3 (so `import neuncut` works).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh "$@"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DNEUNCUT_BUILD_TESTS=ON -DNEUNCUT_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j"$(nproc)"
# Same files scripts/install-python.sh installs, from this build (root: site-packages of /usr/bin/python3).
if [[ $(id -u) -eq 0 ]]; then
  cmake --install build --component python >/dev/null
fi
