#!/usr/bin/env bash
# ctest: the vae example with --distributed under mpirun on loopback (two ranks on however
# many cores). Checks that
#   - two ranks train a slice of MNIST to the band the plain run reaches, and rank 0 alone
#     writes the checkpoint, the metrics and the pictures;
#   - the checkpoint of two ranks resumes with one rank (and one rank's with two), continuing
#     at the next epoch;
#   - a rank killed mid-run (SIGKILL, either rank, at a random moment, also during a save) ends
#     the whole job with an error, and the checkpoint on disk is complete and resumes;
#   - iwae, on the family harness, trains on two ranks to its band, rank 0 gathering every
#     image's log-likelihood;
#   - an error on the ranks (--resume with no checkpoint) ends the job with a line from every
#     rank naming it: the error, or that mpirun ended it; a batch smaller than the number of ranks is refused.
#   bash check_distributed.sh <vae program> <mpiexec> <work folder> [random seed]
# MNIST is searched for as cmake/get-data.sh does; the test fails naming the places when it is missing.
set -euo pipefail
program=$1 mpiexec=$2 work=$3
random_seed=${4:-$(date +%s)}
python=/usr/bin/python3
found=$(bash "$(dirname "$0")/../../cmake/get-data.sh" mnist --find) || exit 1
data=${found#mnist: }
RANDOM=$random_seed
echo "check_distributed: MNIST from $data, random seed $random_seed"
rm -rf "$work"
mkdir -p "$work"
# OpenMPI runs as root only when told it may (CI runs as root), and more ranks than cores
# only with oversubscription.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
args=(--data "$data" --train-n 2000 --test-n 500 --save-freq 0 --seed 5 --threads 1 --no-progress)
train=(--batch-size 100 --ll-particles 50 --ll-test-n 200)
# --batch-size 20: a 0.1-0.3 s epoch, so a kill lands in training or in a save
killed=(--batch-size 20 --ll-particles 0)
fail() { echo "check_distributed: $*" >&2; exit 1; }
# No job of this test outlives it, whatever way it ends.
trap 'pkill -KILL -f -- "--output $work/" 2> /dev/null || true' EXIT
run_ranks() {  # run_ranks <ranks> <output> [options...]
  local ranks=$1 out=$2
  shift 2
  "$mpiexec" -n "$ranks" "$program" --distributed "${args[@]}" --output "$out" "$@"
}
test_bound() { sed -n 's/^Test lower bound = \([-0-9.]*\).*/\1/p' "$1"; }
in_band() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v >= lo && v <= hi) }'; }

# ---- two ranks train; a checkpoint of two ranks resumes with one, and one rank's with two ----
run_ranks 2 "$work/two" "${train[@]}" --epochs 5 > "$work/two.log" 2>&1 || { cat "$work/two.log"; fail "two ranks failed"; }
cat "$work/two.log"
bound=$(test_bound "$work/two.log")
# After 5 epochs of 2000 images the plain run of these options gives -191.38, two ranks -191.63.
in_band "$bound" -200 -183 || fail "two ranks: test lower bound '$bound' outside [-200, -183]"
for f in checkpoint.npz metrics.jsonl samples_25.png training_curve.png; do
  [[ -s $work/two/$f ]] || fail "two ranks: rank 0 wrote no $f"
done
[[ $(grep -c '"epoch"' "$work/two/metrics.jsonl") == 5 ]] || fail "two ranks: metrics.jsonl should list 5 epochs once"
[[ $(grep -c '^Epoch' "$work/two.log") == 5 ]] || fail "two ranks: only rank 0 should print the epochs"

cp -r "$work/two" "$work/two_then_one"
run_ranks 1 "$work/two_then_one" "${train[@]}" --epochs 6 --resume > "$work/two_then_one.log" 2>&1 ||
  { cat "$work/two_then_one.log"; fail "one rank could not resume two ranks' checkpoint"; }
grep -q "Resumed from .* at epoch 5" "$work/two_then_one.log" || fail "one rank: no resume at epoch 5"
grep -q "^Epoch 6 " "$work/two_then_one.log" || fail "one rank: epoch 6 not trained"
run_ranks 1 "$work/one" "${train[@]}" --epochs 1 > "$work/one.log" 2>&1 || { cat "$work/one.log"; fail "one rank failed"; }
run_ranks 2 "$work/one" "${train[@]}" --epochs 2 --resume > "$work/one_then_two.log" 2>&1 ||
  { cat "$work/one_then_two.log"; fail "two ranks could not resume one rank's checkpoint"; }
grep -q "^Epoch 2 " "$work/one_then_two.log" || fail "two ranks: epoch 2 not trained after the resume"
echo "check_distributed: resumed 2 -> 1 and 1 -> 2 ranks"

# ---- a rank killed mid-run ends the job; the checkpoint stays whole and resumes ----
check_checkpoint() { "$python" "$(dirname "$0")/check_checkpoint.py" "$1"; }
rank_pid() {  # rank_pid <output folder> <rank>: the pid of that rank of the job writing there
  local pid
  for pid in $(pgrep -f -- "--output $1( |$)"); do
    [[ $(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p') == "$2" ]] && { echo "$pid"; return 0; }
  done
  return 0
}
for victim in 1 0; do
  out=$work/killed_$victim
  # mpiexec itself in the background (not a function's subshell), so $! is the job
  "$mpiexec" -n 2 "$program" --distributed "${args[@]}" "${killed[@]}" --epochs 1000 --output "$out" > "$out.log" 2>&1 &
  job=$!
  # the first epoch takes 0.1-0.3 s on an idle machine; a loaded one (ctest -j2) may take far longer
  for _ in $(seq 1200); do [[ -e $out/checkpoint.npz ]] && break; sleep 0.1; done
  [[ -e $out/checkpoint.npz ]] || { cat "$out.log"; fail "no checkpoint within 120 s"; }
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  pid=$(rank_pid "$out" "$victim")
  [[ -n $pid ]] || { cat "$out.log"; fail "rank $victim not found"; }
  kill -KILL "$pid"
  status=0
  timeout 60 tail --pid="$job" -f /dev/null || fail "the job went on for 60 s after rank $victim was killed"
  wait "$job" || status=$?
  [[ $status != 0 ]] || fail "the job exited 0 after rank $victim was killed"
  echo "check_distributed: rank $victim killed, the job exited $status:"
  grep -iE "signal|killed|abort" "$out.log" | head -3
  check_checkpoint "$out/checkpoint.npz"
  "$program" "${args[@]}" "${killed[@]}" --output "$out" --resume \
    --epochs "$(( $(grep -c '"epoch"' "$out/metrics.jsonl") + 1 ))" > "$out.resume.log" 2>&1 ||
    { cat "$out.resume.log"; fail "the checkpoint left by killing rank $victim does not resume"; }
  ls "$out" | grep -q '\.tmp' && fail "a temporary file of a killed save is left in $out"
done

# ---- the family harness (examples/common/vae_experiment.hpp) on two ranks: iwae, beside vae ----
iwae=$(dirname "$program")/iwae
harness=(--data "$data" --train-n 2000 --test-n 300 --validation-n 500 --epochs 3 --particles 5 --ll-particles 50
         --ll-test-n 100 --threads 1 --no-progress)
"$mpiexec" -n 2 "$iwae" --distributed "${harness[@]}" --output "$work/iwae" > "$work/iwae.log" 2>&1 ||
  { cat "$work/iwae.log"; fail "iwae on two ranks failed"; }
cat "$work/iwae.log"
bound=$(test_bound "$work/iwae.log")
# one process: -202.24; two ranks: -199.23 (3 epochs of 1500 images, k = 5)
in_band "$bound" -212 -190 || fail "iwae on two ranks: test lower bound '$bound' outside [-212, -190]"
[[ $(wc -l < "$work/iwae/test_log_likelihood.csv") == 101 ]] ||
  fail "iwae on two ranks: test_log_likelihood.csv should hold the 100 images of both ranks"
for f in best.npz checkpoint.npz samples.png reconstructions.png; do
  [[ -s $work/iwae/$f ]] || fail "iwae on two ranks: rank 0 wrote no $f"
done

# ---- errors: every rank says which it is and what went wrong, and the job ends ----
status=0
run_ranks 2 "$work/none" "${train[@]}" --epochs 1 --resume > "$work/error.log" 2>&1 || status=$?
cat "$work/error.log"
[[ $status != 0 ]] || fail "--resume with no checkpoint exited 0"
grep -q "vae: rank [01] of 2 failed: --resume: no checkpoint at" "$work/error.log" || fail "no rank reported the error"
for r in 0 1; do  # each rank fails itself, or is ended by mpirun first and says so
  grep -qE "vae: rank $r of 2 (failed: --resume: no checkpoint at|ended by a signal)" "$work/error.log" ||
    fail "rank $r said nothing"
done
status=0
"$mpiexec" -n 2 "$program" --distributed "${args[@]}" --batch-size 1 --output "$work/small" > "$work/small.log" 2>&1 || status=$?
[[ $status != 0 ]] && grep -q -- "--batch-size 1 is smaller than the 2 ranks" "$work/small.log" ||
  { cat "$work/small.log"; fail "a batch smaller than the ranks was not refused"; }
echo "check_distributed: passed"
