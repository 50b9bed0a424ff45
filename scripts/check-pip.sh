#!/usr/bin/env bash
# Checks the pip paths offline, as a fresh machine after scripts/setup.sh runs them:
#   1. `pip wheel .` (--no-build-isolation --no-index) from a new CMake build folder;
#   2. that wheel installed into a new virtual environment created with --system-site-packages
#      (numpy, scikit-learn, onnx come from Debian's packages), then checked;
#   3. `pip install .` into a second such environment (same CMake folder: only packaging is new),
#      checked, then `pip uninstall` and a check that nothing of it is left.
# "Checked": `neuncut --version` (the installed command), neuncut.__version__ and pip's metadata all
# give CMakeLists.txt's version; the command fits, predicts and exports ONNX from outside the
# checkout; help(neuncut.NeuNcut) lists the parameters.
#
# Usage: scripts/check-pip.sh [--build-dir DIR]
#   --build-dir  reuse this CMake build folder (e.g. build/, already built: seconds instead of
#                a full compile); default: a new one, removed afterwards.
# Environment: CMAKE_BUILD_PARALLEL_LEVEL (compile jobs, default: all cores).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=/usr/bin/python3
work=$(mktemp -d /tmp/neuncut-pip.XXXXXX)
trap 'rm -rf "$work"' EXIT
export NEUNCUT_BUILD_DIR="$work/cmake"
while (($#)); do
  case "$1" in
    --build-dir) NEUNCUT_BUILD_DIR=$(realpath "$2"); shift ;;
    *) sed -n '2,16p' "$0" >&2; exit 2 ;;
  esac
  shift
done
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
version=$(sed -nE 's/^project\(neuncut VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")
[[ -n "$version" ]] || { echo "check-pip.sh: no version in CMakeLists.txt" >&2; exit 1; }
stamp() { printf '[check-pip %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
pip_offline=(--no-build-isolation --no-index --disable-pip-version-check)

check_env() {  # $1: a virtual environment with neuncut installed
  local venv=$1 site
  site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_path('purelib'))")
  (
    cd "$work"  # away from the checkout: the installed package, not python/neuncut
    [[ "$("$venv/bin/neuncut" --version)" == "neuncut $version "* ]] ||
      { echo "check-pip.sh: neuncut --version says '$("$venv/bin/neuncut" --version)', expected $version" >&2; exit 1; }
    "$venv/bin/python" - "$version" "$site" <<'EOF'
import importlib.metadata, pydoc, sys
import neuncut
version, site = sys.argv[1:]
assert neuncut.__file__.startswith(site), f"neuncut imported from {neuncut.__file__}, not from {site}"
assert neuncut.__version__ == version, (neuncut.__version__, version)
assert importlib.metadata.version("neuncut") == version
text = pydoc.render_doc(neuncut.NeuNcut, renderer=pydoc.plaintext)
for row in neuncut.param_table("neuncut"):
    assert f"{row['name']} : " in text, f"help(neuncut.NeuNcut) lacks {row['name']}"
EOF
    "$venv/bin/neuncut" generate --kind blobs -n 600 --clusters 3 --seed 1 --out x.npy >/dev/null
    "$venv/bin/neuncut" fit --data x.npy --k 3 --epochs 20 --hidden 32 --threads 2 --model m.nnc --quiet >/dev/null
    "$venv/bin/neuncut" predict --model m.nnc --data x.npy --labels-out y.npy --quiet >/dev/null
    # export runs the ONNX exporter with this environment's interpreter (the console script says which).
    "$venv/bin/neuncut" export --model m.nnc --out m.onnx --quiet
    "$venv/bin/python" -c "import onnx, numpy, neuncut
onnx.checker.check_model(onnx.load('m.onnx'))
import cv2
net = cv2.dnn.readNetFromONNX('m.onnx'); X = numpy.load('x.npy'); net.setInput(X)
assert (net.forward('labels').reshape(-1) == numpy.load('y.npy')).all(), 'ONNX labels differ from predict'
assert (neuncut.load('m.nnc').predict(X) == numpy.load('y.npy')).all()"
    rm -f x.npy m.nnc y.npy m.onnx
  )
}

t0=$SECONDS
stamp "pip wheel . (CMake folder $NEUNCUT_BUILD_DIR, $CMAKE_BUILD_PARALLEL_LEVEL jobs)"
"$python" -m pip wheel "${pip_offline[@]}" --no-deps -q -w "$work/dist" "$root"
wheels=("$work"/dist/neuncut-"$version"-*.whl)
[[ -f "${wheels[0]}" ]] || { echo "check-pip.sh: no neuncut-$version wheel in $work/dist" >&2; exit 1; }
stamp "built $(basename "${wheels[0]}") ($((SECONDS - t0)) s)"

"$python" -m venv --system-site-packages "$work/wheel-env"
# --ignore-installed --no-deps: a copy already installed system-wide (scripts/build.sh as root
# pip-installs one into /usr/local, which --system-site-packages shows) would otherwise count as
# "already satisfied" and nothing would be installed into the venv; numpy and scikit-learn still
# come from Debian's packages.
"$work/wheel-env/bin/pip" install "${pip_offline[@]}" --ignore-installed --no-deps -q "${wheels[0]}"
check_env "$work/wheel-env"
stamp "wheel installed and checked in a fresh venv"

"$python" -m venv --system-site-packages "$work/install-env"
"$work/install-env/bin/pip" install "${pip_offline[@]}" --ignore-installed --no-deps -q "$root"
check_env "$work/install-env"
stamp "pip install . checked in a fresh venv"

site=$("$work/install-env/bin/python" -c "import sysconfig; print(sysconfig.get_path('purelib'))")
"$work/install-env/bin/pip" uninstall -y -q neuncut
left=$(find "$site" "$work/install-env/bin" -maxdepth 1 -iname 'neuncut*')
[[ -z "$left" ]] || { echo "check-pip.sh: pip uninstall left: $left" >&2; exit 1; }
stamp "pip uninstall removed the package and the command; all passed ($((SECONDS - t0)) s)"
