#!/usr/bin/env bash
# ctest: crash-safe training. Trains the ZhuSuan VAE example on a slice of MNIST once without
# interruption, then again while killing it with SIGKILL at random moments, resuming from the
# last checkpoint each time (or starting over if none was written yet). Checks that
#   - after every kill, also kills during a save, the checkpoint on disk is complete and valid
#     (every CRC and array), and
#   - the final checkpoint (parameters, Adam's moments, RNG state, step) is bit for bit the
#     uninterrupted run's;
#   - metrics.jsonl lists each epoch once, and no temporary file of a killed save is left;
#   - SIGINT: the run exits 130 saying how to resume, and resumes to the same end;
#   - a resume with another --batch-size, or of another program's checkpoint, is refused;
#   - the family harness (course_vae, beside the vae program) resumed after its validation
#     peak keeps best.npz and stops early where an uninterrupted run does.
#   bash kill_and_resume.sh <vae program> <MNIST folder, or -> <work folder> [kills (6)] [random seed]
# With -, MNIST is searched for as cmake/get-data.sh does ($VAELIB_DATA/mnist, <repo>/data/mnist,
# optionally <repo>/../shared/data/mnist; raw or .gz), and the test fails listing those places
# when none holds it.
set -euo pipefail
program=$1 data=$2 work=$3 kills=${4:-6}
random_seed=${5:-$(date +%s)}
python=/usr/bin/python3
if [[ $data == - ]]; then
  found=$(bash "$(dirname "$0")/../../cmake/get-data.sh" mnist --find) || exit 1
  data=${found#mnist: }
fi
[[ -e $data/train-images-idx3-ubyte.gz || -e $data/train-images-idx3-ubyte ]] ||
  { echo "MNIST is missing from $data (run \`bash cmake/get-data.sh\`, or pass the folder that holds it)" >&2; exit 1; }
echo "kill_and_resume: MNIST from $data"
# The family harness's checks (refusals, a resume after the validation peak) use course_vae,
# built beside the vae program.
COURSE_VAE=${COURSE_VAE:-$(dirname "$program")/course_vae}
[[ -x $COURSE_VAE ]] || { echo "no course_vae program at $COURSE_VAE (set COURSE_VAE)" >&2; exit 1; }
RANDOM=$random_seed  # the kill moments; pass it back as the fifth argument to replay them
echo "kill_and_resume: random seed $random_seed"
rm -rf "$work"
mkdir -p "$work"

# One thread: OpenBLAS's threaded GEMMs are deterministic too, but one thread keeps the run
# independent of how busy the machine is.
args=(--data "$data" --train-n 1000 --test-n 100 --batch-size 50 --epochs 8 --ll-particles 0 --save-freq 0
      --seed 11 --threads 1 --no-progress)

# A checkpoint is valid when NumPy reads every array of it and every CRC matches.
check_checkpoint() { "$python" "$(dirname "$0")/check_checkpoint.py" "$1"; }

now() { date +%s.%N; }
start=$(now)
"$program" "${args[@]}" --output "$work/reference" > "$work/reference.log" 2>&1 ||
  { cat "$work/reference.log"; echo "the uninterrupted run failed" >&2; exit 1; }
reference_seconds=$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
echo "uninterrupted run: ${reference_seconds} s"

run=$work/interrupted
interrupted=0 resumed_kills=0 round=0
# Each delay is drawn within the first third of the uninterrupted run's time (the first 70%
# while no checkpoint exists yet, so that a kill can land after the first one is written), so
# most kills land before the run can finish. A run that does finish first is started over,
# so that every one of the kills interrupts a run. Rounds go on until at least one kill has
# interrupted a resumed run, which chance alone does not promise.
while ((interrupted < kills || resumed_kills == 0)); do
  round=$((round + 1))
  if ((round > 4 * kills)); then
    echo "$((round - 1)) rounds but only $interrupted kills interrupted a run ($resumed_kills of them a resumed one): the test did not test anything" >&2
    exit 1
  fi
  resume=()
  [[ -e $run/checkpoint.npz ]] && resume=(--resume)
  share=$( ((${#resume[@]})) && echo 3000 || echo 1400)
  delay=$(awk -v r=$((RANDOM % 1000)) -v t="$reference_seconds" -v s="$share" 'BEGIN { printf "%.3f", 0.1 + r * t / s }')
  "$program" "${args[@]}" --output "$run" "${resume[@]}" > "$work/round$round.log" 2>&1 &
  pid=$!
  sleep "$delay"
  if kill -KILL "$pid" 2> /dev/null; then
    { wait "$pid"; } 2> /dev/null || true  # (without bash's "Killed" line)
    interrupted=$((interrupted + 1))
    ((${#resume[@]})) && resumed_kills=$((resumed_kills + 1))
    epochs_done=$(grep -c "^Epoch" "$work/round$round.log" || true)
    echo "round $round: killed after ${delay} s ${resume[*]:+(resumed) }having finished $epochs_done epochs"
  else
    wait "$pid" || { cat "$work/round$round.log"; echo "round $round: the run failed" >&2; exit 1; }
    echo "round $round: the run finished before the kill at ${delay} s; starting over"
    check_checkpoint "$run/checkpoint.npz" || { echo "round $round: the checkpoint is corrupt" >&2; exit 1; }
    rm -rf "$run"
    continue
  fi
  if [[ -e $run/checkpoint.npz ]]; then
    check_checkpoint "$run/checkpoint.npz" || { echo "round $round: the checkpoint is corrupt" >&2; exit 1; }
  fi
done
if ((resumed_kills == 0)); then
  echo "no kill interrupted a resumed run: the test did not test resuming" >&2
  exit 1
fi

resume=()
[[ -e $run/checkpoint.npz ]] && resume=(--resume)
"$program" "${args[@]}" --output "$run" "${resume[@]}" > "$work/final.log" 2>&1 ||
  { cat "$work/final.log"; echo "the final resumed run failed" >&2; exit 1; }
check_checkpoint "$run/checkpoint.npz"

if ! cmp "$work/reference/checkpoint.npz" "$run/checkpoint.npz"; then
  "$python" - "$work/reference/checkpoint.npz" "$run/checkpoint.npz" <<'PY'
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
for name in sorted(set(a.files) | set(b.files)):
    if name not in a.files or name not in b.files or a[name].tobytes() != b[name].tobytes():
        print(f"differs: {name}")
PY
  echo "the interrupted-and-resumed training did not end where the uninterrupted one did" >&2
  exit 1
fi

# Kills during saves: SIGKILL the moment this process's temporary checkpoint file appears (a
# save under way). The previous checkpoint stays whole, the resumed runs end bit for bit where
# the uninterrupted one does, and later saves remove the killed saves' temporary files.
saves=$work/kill_in_save
in_save_kills=0
for ((attempt = 1; attempt <= 20 && in_save_kills < 3; attempt++)); do
  resume=()
  [[ -e $saves/checkpoint.npz ]] && resume=(--resume)
  "$program" "${args[@]}" --output "$saves" "${resume[@]}" > "$work/save_kill$attempt.log" 2>&1 &
  pid=$!
  caught=0
  # the first save is skipped on every other attempt, so kills land in later epochs too
  skip=$((attempt % 2))
  while kill -0 "$pid" 2> /dev/null; do
    if compgen -G "$saves/.checkpoint.npz.tmp-$pid-*" > /dev/null; then
      if ((skip > 0)); then
        skip=$((skip - 1))
        while compgen -G "$saves/.checkpoint.npz.tmp-$pid-*" > /dev/null; do :; done
        continue
      fi
      kill -KILL "$pid" 2> /dev/null && caught=1
      break
    fi
  done
  { wait "$pid"; } 2> /dev/null || true
  if ((caught)); then
    in_save_kills=$((in_save_kills + 1))
    echo "save kill $attempt: SIGKILL during a save after $(grep -c '^Epoch' "$work/save_kill$attempt.log" || true) epoch(s) ${resume[*]:+(resumed)}"
    [[ ! -e $saves/checkpoint.npz ]] || check_checkpoint "$saves/checkpoint.npz" ||
      { echo "save kill $attempt: the checkpoint is corrupt" >&2; exit 1; }
  elif grep -q '^Epoch 8' "$work/save_kill$attempt.log"; then
    echo "save kill $attempt: the run finished before a save was caught; starting over"
    rm -rf "$saves"
  else
    cat "$work/save_kill$attempt.log"; echo "save kill $attempt: the run failed" >&2; exit 1
  fi
done
((in_save_kills > 0)) || { echo "no kill landed during a save in 20 attempts: the test did not test it" >&2; exit 1; }
resume=()
[[ -e $saves/checkpoint.npz ]] && resume=(--resume)
"$program" "${args[@]}" --output "$saves" "${resume[@]}" > "$work/save_kill_final.log" 2>&1 ||
  { cat "$work/save_kill_final.log"; echo "the run resumed after the kills during saves failed" >&2; exit 1; }
cmp "$work/reference/checkpoint.npz" "$saves/checkpoint.npz" ||
  { echo "killed during saves and resumed, the run did not end where the uninterrupted one did" >&2; exit 1; }
if stray=$(ls -A "$saves" | grep '\.tmp-'); then
  echo "temporary files of the killed saves left after the last save: $stray" >&2
  exit 1
fi
echo "kills during saves: $in_save_kills, each leaving a whole checkpoint; resumed to the reference's checkpoint"

# SIGINT (and SIGTERM alike) after the first checkpoint: the run finishes its step, says how to
# resume and exits 130; resumed, it ends bit for bit where the uninterrupted run does.
sig=$work/sigint
"$program" "${args[@]}" --output "$sig" > "$work/sigint.log" 2>&1 &
pid=$!
for ((i = 0; i < 300; i++)); do [[ -e $sig/checkpoint.npz ]] && break; sleep 0.05; done
kill -INT "$pid" 2> /dev/null || true
status=0
wait "$pid" || status=$?
if ((status != 130)); then
  grep -q "^Epoch 8" "$work/sigint.log" || { cat "$work/sigint.log"; echo "SIGINT: exit status $status, expected 130" >&2; exit 1; }
  echo "SIGINT: the run had finished before the signal (machine slow to start it); not checked"
else
  grep -q "run the same command with --resume to continue" "$work/sigint.log" ||
    { cat "$work/sigint.log"; echo "SIGINT: no word on how to resume" >&2; exit 1; }
  "$program" "${args[@]}" --output "$sig" --resume > "$work/sigint_resume.log" 2>&1 ||
    { cat "$work/sigint_resume.log"; echo "the run resumed after SIGINT failed" >&2; exit 1; }
  cmp "$work/reference/checkpoint.npz" "$sig/checkpoint.npz" ||
    { echo "the run interrupted by SIGINT and resumed did not end where the uninterrupted one did" >&2; exit 1; }
  echo "SIGINT: exit 130 after $(grep -c '^Epoch' "$work/sigint.log") epoch(s), resumed to the reference's checkpoint"
fi

# The metrics log agrees with the checkpoint after the kills: epochs 1..8 once each, in order.
epochs_logged=$(grep -o '"epoch": [0-9]*' "$run/metrics.jsonl" | awk '{printf "%s ", $2}')
[[ $epochs_logged == "1 2 3 4 5 6 7 8 " ]] ||
  { echo "metrics.jsonl after the kills lists the epochs '$epochs_logged', not 1..8 once each" >&2; exit 1; }
# --ll-particles 0: the skipped log-likelihood is logged as null, not as a made-up 0.
grep -q '"test_log_likelihood": null' "$run/metrics.jsonl" ||
  { grep summary "$run/metrics.jsonl"; echo "the skipped test log-likelihood is not written as null" >&2; exit 1; }
# No temporary file of a killed save is left (each save removes those of dead processes).
if stray=$(ls -A "$run" | grep '\.tmp-'); then
  echo "temporary files left after the last save: $stray" >&2
  exit 1
fi

# A resume with another batch size is refused (exit status non-zero, the message names it),
# and leaves the checkpoint and the log as they were.
expect_refusal() {  # <log> <what the message must say> <command...>
  local log=$1 message=$2
  shift 2
  if "$@" > "$log" 2>&1; then
    cat "$log"; echo "expected a refusal ($message), the run succeeded" >&2; exit 1
  fi
  grep -qF -- "$message" "$log" || { cat "$log"; echo "the refusal does not say: $message" >&2; exit 1; }
  echo "refused as expected: $(grep -F -- "$message" "$log" | head -1 | cut -c1-160)"
}
cp "$run/checkpoint.npz" "$work/before_refusals.npz"
# An unwritable --checkpoint is found before training, not after a whole epoch.
expect_refusal "$work/unwritable.log" "--checkpoint: cannot write $work/no_such_folder/ck.npz (No such file or directory" \
  "$program" "${args[@]}" --output "$work/unwritable" --checkpoint "$work/no_such_folder/ck.npz"
if grep -q '^Epoch' "$work/unwritable.log"; then echo "the unwritable --checkpoint was found only after training" >&2; exit 1; fi
expect_refusal "$work/batch_size.log" "was made with --batch-size 50, this run has 100" \
  "$program" "${args[@]/#50/100}" --output "$run" --resume
# Another program's checkpoint: the family harness refuses the VAE example's, naming both.
expect_refusal "$work/other_program.log" "was made by 'vae', not 'course_vae'" \
    "$COURSE_VAE" --data "$data" --train-n 1000 --validation-n 200 --test-n 100 --batch-size 50 --ll-particles 0 \
    --threads 1 --no-progress --output "$run" --resume
cmp "$work/before_refusals.npz" "$run/checkpoint.npz" || { echo "a refused resume changed the checkpoint" >&2; exit 1; }

# The family harness resumed after its validation peak (epoch 22 of this slice; 23 and 24 are
# worse, early stopping after 25) keeps the best weights: best.npz and the stop are the
# uninterrupted run's.
{
  family=(--data "$data" --train-n 400 --validation-n 200 --test-n 50 --ll-particles 0 --batch-size 50 --lr 3e-3
          --patience 3 --seed 1234 --threads 1 --no-progress)
  "$COURSE_VAE" "${family[@]}" --epochs 30 --output "$work/family_reference" > "$work/family_reference.log" 2>&1 ||
    { cat "$work/family_reference.log"; echo "the family reference run failed" >&2; exit 1; }
  "$COURSE_VAE" "${family[@]}" --epochs 23 --output "$work/family" > "$work/family1.log" 2>&1 ||
    { cat "$work/family1.log"; echo "the family run to epoch 23 failed" >&2; exit 1; }
  "$COURSE_VAE" "${family[@]}" --epochs 30 --output "$work/family" --resume > "$work/family2.log" 2>&1 ||
    { cat "$work/family2.log"; echo "the resumed family run failed" >&2; exit 1; }
  cmp "$work/family_reference/best.npz" "$work/family/best.npz" ||
    { echo "resumed after the validation peak, the harness replaced best.npz with other weights" >&2; exit 1; }
  cmp "$work/family_reference/checkpoint.npz" "$work/family/checkpoint.npz" ||
    { echo "the resumed family run did not stop where the uninterrupted one did" >&2; exit 1; }
  expect_refusal "$work/family_batch.log" "was made with --batch-size 50, this run has 25" \
    "$COURSE_VAE" "${family[@]/#50/25}" --epochs 31 --output "$work/family" --resume
  echo "family harness: resumed after the validation peak, best.npz and the early stop unchanged"
}
echo "kill_and_resume: $interrupted kills, final checkpoint bit for bit equal to the uninterrupted run's"
