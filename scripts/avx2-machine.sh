# Sourced by scripts/test-avx2.sh and scripts/test-sanitize.sh: what makes a build and its test
# run behave as on an AVX2-only machine (no AVX-512), on any x86-64-v3 host (docs/ci.md, "The
# AVX2 emulation").

# The first instruction-set flag this CPU lacks for running an x86-64-v3 build (AVX2 + FMA +
# BMI1/2 + F16C + LZCNT + MOVBE), or nothing when it has them all.
x86_64_v3_missing_flag() {
  local flags f
  flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
  for f in avx2 fma bmi1 bmi2 f16c abm movbe; do
    if [[ " $flags " != *" $f "* ]]; then
      echo "$f"
      return
    fi
  done
}

# CMake options of a build for x86-64-v3 instead of -march=native.
avx2_machine_cmake_args=(-DNEUNCUT_NATIVE=OFF -DNEUNCUT_ARCH=x86-64-v3)

# oneDNN reads this once per process; the tests that check oneDNN's instruction set compare
# against min(CPU, this cap). OpenBLAS (numpy's BLAS when libopenblas is installed) likewise.
export_avx2_machine_caps() {
  export ONEDNN_MAX_CPU_ISA=AVX2
  export OPENBLAS_CORETYPE=Haswell
}
