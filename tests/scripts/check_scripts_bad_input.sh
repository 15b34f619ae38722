#!/usr/bin/env bash
# ctest scripts/bad_input: the project's shell scripts refuse bad arguments with a message
# naming what was wrong, before doing any work.
#   bash check_scripts_bad_input.sh <source folder> <scratch folder>
set -uo pipefail
src=$1 scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch/corpus"
failures=0
# expect <exit code> <message fragment> <command...>
expect() {
  local code=$1 fragment=$2
  shift 2
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if ((rc != code)) || [[ $out != *"$fragment"* ]]; then
    echo "FAIL: $* exited $rc (expected $code) with: $out" >&2
    echo "      expected the message to contain: $fragment" >&2
    failures=$((failures + 1))
  else
    echo "ok: $* -> $fragment"
  fi
}
expect 2 "unknown stage 'tests' (release, sanitize, fuzz)" bash "$src/cmake/run-tests.sh" release tests
expect 2 "usage:" bash "$src/tests/fuzz/run.sh" only-one-argument
expect 2 "no fuzzer program at $scratch/none" bash "$src/tests/fuzz/run.sh" "$scratch/none" "$scratch/corpus" 5 "$scratch/w"
expect 2 "no seed corpus folder at $scratch/nothing" bash "$src/tests/fuzz/run.sh" /bin/true "$scratch/nothing" 5 "$scratch/w"
expect 2 "<seconds> must be a whole number, not 'ten'" bash "$src/tests/fuzz/run.sh" /bin/true "$scratch/corpus" ten "$scratch/w"
expect 2 "unknown argument '--fast' (see --help)" bash "$src/benchmarks/compare_peer.sh" --fast
expect 2 "--rounds and --epochs take whole numbers of at least 1" bash "$src/benchmarks/compare_peer.sh" --rounds 0
expect 2 "no $scratch/build/examples/vae (build it" bash "$src/benchmarks/compare_peer.sh" --build "$scratch/build"
expect 2 "--peer-config takes 'same' or 'default', not 'best'" bash "$src/benchmarks/compare_peer.sh" --peer-config best
expect 2 "unknown workload 'train' (gemm, epoch, is-ll, iwae)" bash "$src/benchmarks/compare_peer.sh" --workloads gemm,train
expect 2 "unknown argument '--bogus' (see --help)" bash "$src/benchmarks/compare_conv_peer.sh" --bogus
expect 2 "--rounds takes a whole number of at least 1, not '0'" bash "$src/benchmarks/compare_conv_peer.sh" --rounds 0
expect 2 "no build folder '$scratch/none' (--build)" bash "$src/benchmarks/compare_conv_peer.sh" --build "$scratch/none"
expect 2 "--k, --steps and --images must be at least 1" /usr/bin/python3 "$src/benchmarks/peer_workloads.py" --workload iwae --k 0
expect 2 "no pytorch_vae.py in $scratch" /usr/bin/python3 "$src/benchmarks/peer_workloads.py" --workload iwae --k 5 --peer "$scratch"
expect 2 "unknown argument '--fast' (--posterior NAME, --seeds N, --build DIR)" bash "$src/benchmarks/stan_divergences.sh" --fast
expect 2 "no model.stan and data.json in tests/posteriordb/nothing" bash "$src/benchmarks/stan_divergences.sh" --posterior nothing
expect 2 "--seeds needs a value" bash "$src/benchmarks/stan_divergences.sh" --seeds
expect 2 "--seeds takes a whole number >= 1, not '0'" bash "$src/benchmarks/stan_divergences.sh" --seeds 0
expect 2 "$scratch/none/examples/posteriordb is not built" bash "$src/benchmarks/stan_divergences.sh" --build "$scratch/none"
expect 1 "MNIST is missing from $scratch/corpus" bash "$src/examples/vae/kill_and_resume.sh" /bin/true "$scratch/corpus" "$scratch/k"
((failures == 0)) || { echo "$failures script checks failed" >&2; exit 1; }
