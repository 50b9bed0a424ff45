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

source scripts/avx2-machine.sh
missing=$(x86_64_v3_missing_flag)
if [[ -n "$missing" ]]; then
  echo "test-avx2.sh: skipped, this CPU lacks '$missing' (needed to run an x86-64-v3 build)"
  exit 0
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build-avx2 -DCMAKE_BUILD_TYPE=Release -DNEUNCUT_BUILD_TESTS=ON -DNEUNCUT_BUILD_PYTHON=ON \
  -DPython_EXECUTABLE=/usr/bin/python3 "${avx2_machine_cmake_args[@]}" "${launcher[@]}" >/dev/null
cmake --build build-avx2 -j"$(nproc)"

export_avx2_machine_caps
export OMP_WAIT_POLICY=passive
ctest --test-dir build-avx2 --output-on-failure -j2
PYTHONPATH="$root/build-avx2/python" NEUNCUT_CLI="$root/build-avx2/neuncut" \
  /usr/bin/python3 -m pytest tests/python -q -p no:cacheprovider
