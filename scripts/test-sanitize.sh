#!/usr/bin/env bash
# The C++ and Python suites under AddressSanitizer + UndefinedBehaviorSanitizer
# (NEUNCUT_SANITIZE=ON, -O1 -g1, into build-asan; UBSan instruments the library and the Python
# module, ASan also the CLI and the tests: CMakeLists.txt says why). Any sanitizer report fails the run:
# UBSan halts on the first error, ASan always does, LeakSanitizer checks the C++ tests.
# Python: /usr/bin/python3 is not instrumented, so the ASan runtime must be the first library
# loaded (LD_PRELOAD) for the extension module to load; CPython's allocator keeps objects
# alive until exit by design, so leak detection is off there (ASan's memory errors stay on).
# The Python suite runs without test_estimator_checks.py: scikit-learn's generic estimator checks
# (272 of its 412 tests) took most of the sanitized Python suite's time (17% of the suite done
# after 5 minutes, inside that file), far beyond CI's budget; they run in the test stage (scripts/test.sh).
# Python's own small objects stay in its pool allocator (no PYTHONMALLOC=malloc): the module's
# C++ allocations, what this run is for, go through ASan either way, and routing every Python
# object through it made the Python suite several times slower than CI's time allows.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# As an AVX2-only machine (no AVX-512) runs neuncut, on any x86-64-v3 host: compiled for
# -march=x86-64-v3 and oneDNN's JIT capped at AVX2, so a CI host with AVX-512 also runs the
# kernels, the bf16 refusal and the float rounding that AVX2 users get (scripts/test-avx2.sh
# does the same for an optimized build). A CPU without x86-64-v3 builds for itself.
source scripts/avx2-machine.sh
missing=$(x86_64_v3_missing_flag)
arch=()
if [[ -n "$missing" ]]; then
  echo "test-sanitize.sh: this CPU lacks '$missing': built for this machine, not as an AVX2 machine"
else
  arch=("${avx2_machine_cmake_args[@]}")
  export_avx2_machine_caps
fi
# -O1 -g1 (line tables only): GCC's UBSan instrumentation of Eigen's templates at -O2 -g made
# single files take minutes (src/graph/knn.cpp 195 s, -O1 -g1: 68 s; docs/reliability.md), and
# the whole sanitized build alone outgrew CI's time; -O1 is the sanitizers' usual level and
# line tables are all their stack traces use.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DNEUNCUT_SANITIZE=ON -DNEUNCUT_BUILD_TESTS=ON -DNEUNCUT_BUILD_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3 \
  "${arch[@]}" "${launcher[@]}" >/dev/null
cmake --build build-asan -j2

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_WAIT_POLICY=passive
# Two accuracy tests are left to the other stages: under the sanitizers they were 233 s and 176 s
# of CTest's 526 s (30 s and 23 s optimized), and the code they run is run here by shorter tests
# (NeuNcut.RecoversBlobsWithDefaultSettings fits with the defaults; each baseline has its own
# tests, the CLI's fit/predict round trip its own).
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j2 \
  -E '^(NeuNcut\.RecoversTwoMoonsWithDefaultSettings|Cli\.BaselinesRunAndTheirModelsPredictTheSameLabels)$'

# libstdc++ is preloaded with the ASan runtime: ASan resolves the real __cxa_throw when it
# starts, and python3 does not link libstdc++, so without it the first C++ exception thrown in
# the extension module stops the interpreter ("CHECK failed: ... real___cxa_throw").
libasan=$(${CXX:-g++} -print-file-name=libasan.so)
libstdcxx=$(${CXX:-g++} -print-file-name=libstdc++.so)
LD_PRELOAD="$libasan $libstdcxx" ASAN_OPTIONS=detect_leaks=0 \
  PYTHONPATH="$root/build-asan/python" NEUNCUT_CLI="$root/build-asan/neuncut" \
  /usr/bin/python3 -m pytest tests/python -q -p no:cacheprovider --ignore tests/python/test_estimator_checks.py
