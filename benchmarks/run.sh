#!/usr/bin/env bash
# Runs vaelib's benchmarks with repetitions and prints the ratios (medians of one run).
# Usage: benchmarks/run.sh [build/benchmarks]   (extra Google Benchmark flags via BENCH_FLAGS)
set -euo pipefail
dir=${1:-build/benchmarks}
flags=${BENCH_FLAGS:---benchmark_repetitions=7 --benchmark_report_aggregates_only=true}
for program in bench_tape_overhead bench_mlp bench_vae_step bench_conv_vae_step bench_mcmc_gradient; do
  echo "== $program"
  # shellcheck disable=SC2086
  "$dir/$program" $flags
done
