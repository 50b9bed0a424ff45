#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/, clang with ASan+UBSan, into build-fuzz) and
# runs each one for a while on a scratch copy of its seed corpus (tests/fuzz/corpus/<reader>).
# Any crash, sanitizer report, uncaught non-neuncut exception, leak, input slower than 10 s or
# allocation over 2 GiB fails the run; the offending input is kept in build-fuzz/artifacts/.
# Usage: scripts/fuzz.sh [seconds per fuzzer, default 20] [fuzzer names, default all]
#   e.g. scripts/fuzz.sh 600 npy csv      (the 10-minute campaigns of docs/reliability.md)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-20}
shift || true
fuzzers=("$@")
((${#fuzzers[@]})) || fuzzers=(npy csv idx model)

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (scripts/setup.sh installs clang)" >&2; exit 1; }
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# -O1: the sanitizers' usual level; the fuzzers need only the library, not the CLI or tests.
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DNEUNCUT_BUILD_FUZZERS=ON -DNEUNCUT_BUILD_TESTS=OFF \
  -DNEUNCUT_BUILD_CLI=OFF -DNEUNCUT_WITH_ONEDNN=OFF "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j2 --target "${fuzzers[@]/#/fuzz_}"

artifacts=build-fuzz/artifacts
mkdir -p "$artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export OMP_NUM_THREADS=1
status=0
for name in "${fuzzers[@]}"; do
  # New inputs go to a scratch directory; the committed seeds are only read.
  work=build-fuzz/corpus/$name
  mkdir -p "$work"
  echo "fuzz.sh: fuzz_$name for ${seconds}s"
  if ! build-fuzz/tests/fuzz/fuzz_"$name" "$work" "tests/fuzz/corpus/$name" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$name-" 2>"build-fuzz/fuzz_$name.log"; then
    status=1
    echo "fuzz.sh: fuzz_$name FAILED; input in $artifacts/, log:" >&2
    tail -n 60 "build-fuzz/fuzz_$name.log" >&2
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^Done|cov:' "build-fuzz/fuzz_$name.log" | tail -n 4
done
exit $status
