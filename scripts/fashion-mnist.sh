#!/usr/bin/env bash
# The main job: set-up, build, then cluster Fashion-MNIST with NeuNcut (train on a 20,000-point
# sample, label all 70,000), print ACC/NMI/ARI and the time, write the model and the labels.
# Extra arguments go to `neuncut fit` (e.g. --seed 1, --epochs 100, --json).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/build.sh
mkdir -p out
build/neuncut fit --data fashion-mnist --k 10 --train-size 20000 --seed 0 \
  --model out/fashion-mnist.nnc --labels-out out/fashion-mnist-labels.npy "$@"
