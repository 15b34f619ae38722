#!/usr/bin/env bash
# Fuzzes one libFuzzer target for a given time, starting from its seed corpus.
#   bash tests/fuzz/run.sh <fuzzer> <seed-corpus-folder> <seconds> <work-folder>
# The seed corpus is copied into <work-folder>/corpus (the repo's copy does not grow); any
# crash, leak, timeout (10 s per input) or out-of-memory (2 GiB) writes the input to
# <work-folder>/artifacts and fails the run. Prints libFuzzer's final statistics, whose
# stat::number_of_executed_units is the execution count docs/reliability.md records.
set -euo pipefail
if (($# != 4)); then
  echo "usage: $0 <fuzzer> <seed-corpus-folder> <seconds> <work-folder>" >&2
  exit 2
fi
fuzzer=$1 seeds=$2 seconds=$3 work=$4
[[ -x $fuzzer ]] || { echo "$0: no fuzzer program at $fuzzer (build it: see tests/fuzz/CMakeLists.txt)" >&2; exit 2; }
[[ -d $seeds ]] || { echo "$0: no seed corpus folder at $seeds" >&2; exit 2; }
[[ $seconds =~ ^[0-9]+$ ]] || { echo "$0: <seconds> must be a whole number, not '$seconds'" >&2; exit 2; }
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/corpus" > "$work/log.txt" 2>&1 || rc=$?
grep -E "^(stat::|#[0-9]+ +DONE|==[0-9]+==|SUMMARY|INFO: seed corpus)" "$work/log.txt" || true
if ((rc != 0)) || compgen -G "$work/artifacts/*" > /dev/null; then
  echo "$0: $(basename "$fuzzer") FAILED (exit $rc); inputs in $work/artifacts, log in $work/log.txt" >&2
  exit 1
fi
echo "$(basename "$fuzzer"): no crash, leak, timeout or out-of-memory in ${seconds} s"
