#!/usr/bin/env bash
# Builds the neuncut Python package (compiled neuncut._core + pure-Python neuncut/) with CMake
# and installs it for Debian's /usr/bin/python3, offline (no pip, no PyPI).
#
# Usage: scripts/install-python.sh [--develop] [--build-dir DIR] [--python PATH] [--target DIR]
#   default     copy the package into the interpreter's site directory
#               (/usr/local/lib/python3.11/dist-packages for Debian's python3; needs root)
#   --develop   instead write neuncut-build.pth there, pointing at DIR/python, so rebuilding
#               (cmake --build DIR --target _core) updates the package in place
#   --build-dir build directory (default: build-py)
#   --python    interpreter to build for (default: /usr/bin/python3)
#   --target    install directory (default: the interpreter's site directory)
# Afterwards: /usr/bin/python3 -c "import neuncut" works from any directory.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build-py"
python=/usr/bin/python3
develop=0
target=""
while (($#)); do
  case "$1" in
    --develop) develop=1 ;;
    --build-dir) build=$(realpath -m "$2"); shift ;;
    --python) python="$2"; shift ;;
    --target) target="$2"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "install-python.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done

"$python" -c "import numpy, sklearn" 2>/dev/null || {
  echo "install-python.sh: $python lacks numpy/scikit-learn; run scripts/setup.sh (Debian packages) first" >&2
  exit 1
}
if [[ -z "$target" ]]; then
  target=$("$python" -c "import sysconfig as s; print(s.get_path('platlib', 'posix_local' if 'posix_local' in s.get_scheme_names() else 'posix_prefix'))")
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S "$root" -B "$build" -DNEUNCUT_BUILD_PYTHON=ON -DNEUNCUT_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$python" -DNEUNCUT_PYTHON_INSTALL_DIR="$target" >/dev/null
cmake --build "$build" -j"$jobs" --target _core

mkdir -p "$target"
if ((develop)); then
  rm -rf "$target/neuncut"
  echo "$build/python" > "$target/neuncut-build.pth"
else
  rm -f "$target/neuncut-build.pth"
  rm -rf "$target/neuncut"
  cmake --install "$build" --component python >/dev/null
fi

cd /  # import from outside the source tree
"$python" -c "import neuncut; print('install-python.sh: neuncut', neuncut.__version__, 'from', neuncut.__path__[0])"
