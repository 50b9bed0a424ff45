#!/usr/bin/env bash
# The test command: set-up, build, then the C++ suite (CTest/GoogleTest) and the Python
# suite (pytest with Debian's /usr/bin/python3). A few minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/build.sh
# Passive OpenMP waiting: tests run side by side on few cores, where spinning threads starve each other.
export OMP_WAIT_POLICY=passive
ctest --test-dir build --output-on-failure -j2
# find_package(neuncut) from an installed copy, in a program built with default compiler flags.
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/install" >/dev/null
cmake -S examples/cpp -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix/install" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$prefix/consumer" -j2 >/dev/null
"$prefix/consumer/cluster_blobs"
PYTHONPATH="$root/build/python" NEUNCUT_CLI="$root/build/neuncut" /usr/bin/python3 -m pytest tests/python -q -p no:cacheprovider
