#!/usr/bin/env bash
# Installs everything neuncut needs to build, test and run, from Debian's archive only.
# Idempotent: packages already present are skipped by apt. Run as root (CI does).
# Usage: scripts/setup.sh [--with-peers] [--with-quality] [--with-ci]
#   --with-peers    PyTorch and OpenBLAS for bench/'s peers
#   --with-quality  the Debian packages that ship the quality suite's data sets
#                   (scripts/quality-datasets.py, docs/quality.md)
#   --with-ci       debootstrap, for CI's fresh-machine check (scripts/check-fresh-machine.sh)
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config          # toolchain
  libeigen3-dev                             # linear algebra (dense GEMM, sparse)
  libcli11-dev                              # command-line parsing
  nlohmann-json3-dev                        # the CLI's --json summaries
  zlib1g-dev                                # .gz MNIST IDX files
  libfftw3-dev                              # FFTs of the scattering transform (image features)
  libgtest-dev libgmock-dev                 # unit tests
  libbenchmark-dev                          # micro-benchmarks
  libspectra-dev                            # Lanczos eigensolver (classic Ncut baseline)
  libhnswlib-dev                            # approximate kNN for large data
  libdnnl-dev                               # oneDNN: bf16 mixed precision (precision = bf16)
  libhdf5-dev                               # HDF5 datasets as input (--data file.h5:/x), a format
                                            # of large data sets; optional at build time
  pybind11-dev python3-dev python3-numpy    # Python extension
  python3-pytest python3-matplotlib python3-pandas python3-sklearn python3-scipy
  python3-pip python3-setuptools python3-wheel python3-venv  # pip install . / pip wheel . offline (docs/python.md)
  python3-onnx python3-opencv               # ONNX export, and OpenCV's DNN module that the tests run it in
  python3-dask python3-distributed python3-h5py  # dask arrays as estimator input (tests/python/test_dask.py),
                                            # examples/dask_label_hdf5.py
  libopenmpi-dev openmpi-bin                # optional MPI in the CLI: mpirun -np R neuncut predict (docs/mpi.md)
  dataset-fashion-mnist                     # real benchmark data
  clang libclang-rt-14-dev libomp-14-dev    # scripts/fuzz.sh: libFuzzer (in libclang-rt-14-dev), clang's OpenMP
)
# OpenBLAS: without it libblas.so.3 is the reference BLAS (about 5 GFLOP/s) and every numpy,
# scikit-learn and PyTorch peer would be measured 30x slower than its best configuration.
peer_pkgs=(python3-torch libopenblas0-pthread python3-threadpoolctl)

# Quality suite (issue 13): labelled data sets shipped inside Debian packages, read without R or Java.
quality_pkgs=(
  r-cran-mlbench python3-rdata              # UCI sets as .rda (LetterRecognition, Shuttle, Satellite, ...)
  opencv-doc                                # examples/data/digits.png: 5,000 handwritten 20x20 digits
  weka                                      # examples/segment-*.arff: UCI Image Segmentation
)
ci_pkgs=(debootstrap)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --with-peers) want+=("${peer_pkgs[@]}") ;;
    --with-quality) want+=("${quality_pkgs[@]}") ;;
    --with-ci) want+=("${ci_pkgs[@]}") ;;
    *) echo "setup.sh: unknown option '$arg' (use --with-peers, --with-quality, --with-ci)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup.sh: missing packages (${missing[*]}); run this script as root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "setup.sh: all dependencies present"
