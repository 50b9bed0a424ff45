#!/usr/bin/env bash
# Compares two neuncut binaries on fixed seeds: the labels, memberships and model files they
# write must be byte-identical. Used to prove that a restructuring changed no behaviour
# (issue 15): run it with the binary of the commit before and the one after.
#   scripts/check-same-output.sh OLD/neuncut NEW/neuncut [--quick]
# --quick skips Fashion-MNIST. Exit 0: every output identical; 1: a difference (named).
set -euo pipefail
old=$1 new=$2 quick=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
gen() { "$old" generate "$@" >/dev/null; }
gen --kind blobs -n 1500 --clusters 5 --dim 8 --seed 1 --out "$work/blobs.npy" --labels-out "$work/blobs_y.npy"
gen --kind moons -n 1000 --seed 2 --out "$work/moons.npy"
gen --kind circles -n 800 --seed 3 --out "$work/circles.npy"
gen --kind imbalanced-blobs -n 1200 --clusters 4 --dim 20 --seed 4 --out "$work/imb.npy"

# name, then the arguments after the command; each case runs with both binaries.
run_case() {
  local name=$1 cmd=$2; shift 2
  for tag in old new; do
    local bin=$old; [[ $tag == new ]] && bin=$new
    mkdir -p "$work/$tag"
    local extra=()
    case $cmd in
      fit|spectralnet|kmeans) extra=(--model "$work/$tag/$name.nnc") ;;
    esac
    [[ $cmd == fit ]] && extra+=(--proba-out "$work/$tag/$name.proba.npy")
    "$bin" "$cmd" "$@" --labels-out "$work/$tag/$name.labels.npy" "${extra[@]}" -q >/dev/null 2>"$work/$tag/$name.err" \
      || { echo "FAIL $name: $tag binary exited non-zero"; cat "$work/$tag/$name.err"; fail=1; }
  done
  for f in "$work/old/$name".*; do
    local g=$work/new/${f##*/}
    [[ $f == *.err ]] && continue
    if cmp -s "$f" "$g"; then echo "same  ${f##*/}"; else echo "DIFF  ${f##*/}"; fail=1; fi
  done
  # a saved model must label the same rows identically, too
  if [[ -f "$work/old/$name.nnc" ]]; then
    local data=$4
    "$old" predict --model "$work/old/$name.nnc" --data "$data" --labels-out "$work/old/$name.pred.npy" -q >/dev/null 2>&1 || true
    "$new" predict --model "$work/old/$name.nnc" --data "$data" --labels-out "$work/new/$name.pred.npy" -q >/dev/null 2>&1 || true
    if cmp -s "$work/old/$name.pred.npy" "$work/new/$name.pred.npy"; then echo "same  $name.pred.npy (old model, both binaries)"
    else echo "DIFF  $name.pred.npy (old model, both binaries)"; fail=1; fi
  fi
}
for t in 1 2; do
  run_case blobs_t$t fit --k 5 --data "$work/blobs.npy" --seed 0 --threads $t
done
run_case moons fit --k 2 --data "$work/moons.npy" --seed 1 --threads 2
run_case circles_gauss fit --k 2 --data "$work/circles.npy" --seed 2 --threads 2 --affinity gaussian
run_case imb_paper fit --k 4 --data "$work/imb.npy" --seed 3 --threads 2 --recipe paper --epochs 20
run_case imb_select fit --k 4 --data "$work/imb.npy" --seed 0 --threads 2 --select auto --epochs 10
run_case blobs_sn spectralnet --k 5 --data "$work/blobs.npy" --seed 0 --threads 2
run_case blobs_km kmeans --k 5 --data "$work/blobs.npy" --seed 0 --threads 2
run_case blobs_ncut ncut --k 5 --data "$work/blobs.npy" --seed 0 --threads 2
if [[ $quick != --quick ]]; then
  run_case fm fit --k 10 --data fashion-mnist --seed 0 --threads 2 --epochs 5
  run_case fm_raw fit --k 10 --data fashion-mnist --seed 1 --threads 2 --epochs 3 --features raw --train-size 5000
fi
if [[ $fail -eq 0 ]]; then echo "all outputs identical"; else echo "outputs differ"; fi
exit $fail
