#!/usr/bin/env bash
# The whole test suite as an AVX2-only machine (no AVX-512) runs it, on any x86-64-v3 host:
# the library is compiled for -march=x86-64-v3 instead of -march=native, and oneDNN's JIT is
# capped at AVX2 (ONEDNN_MAX_CPU_ISA), so CI on an AVX-512 machine also exercises the kernels,
# the bf16 refusal and the float rounding that users with AVX2 CPUs get.
# Build tree: build-avx2/ (separate from build/). Uses ccache when installed.
# Usage: scripts/test-avx2.sh   (after scripts/setup.sh; skips with a message on a CPU without x86-64-v3)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# x86-64-v3 is AVX2 + FMA + BMI1/2 + F16C + LZCNT + MOVBE: a narrower CPU cannot run this build.
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
for f in avx2 fma bmi1 bmi2 f16c abm movbe; do
  if [[ " $flags " != *" $f "* ]]; then
    echo "test-avx2.sh: skipped, this CPU lacks '$f' (needed to run an x86-64-v3 build)"
    exit 0
  fi
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-avx2 -DCMAKE_BUILD_TYPE=Release -DNEUNCUT_BUILD_TESTS=ON -DNEUNCUT_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 -DNEUNCUT_NATIVE=OFF -DNEUNCUT_ARCH=x86-64-v3 "${launcher[@]}" >/dev/null
cmake --build build-avx2 -j"$(nproc)"

# oneDNN reads this once per process; the tests that check oneDNN's instruction set compare
# against min(CPU, this cap). OpenBLAS (numpy's BLAS when libopenblas is installed) likewise.
export ONEDNN_MAX_CPU_ISA=AVX2
export OPENBLAS_CORETYPE=Haswell
export OMP_WAIT_POLICY=passive
ctest --test-dir build-avx2 --output-on-failure -j2
PYTHONPATH="$root/build-avx2/python" NEUNCUT_CLI="$root/build-avx2/neuncut" \
  /usr/bin/python3 -m pytest tests/python -q -p no:cacheprovider
