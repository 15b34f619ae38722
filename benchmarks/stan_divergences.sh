#!/usr/bin/env bash
# Divergences of Stan's NUTS (rstan, Debian's r-cran-rstan) against vaelib's on a posteriordb
# posterior, over several seeds, with the same settings on both sides: 4 chains x 1000 draws
# after 1000 warm-up, diagonal metric, target acceptance 0.8, max tree depth 10 (Stan's
# defaults and examples/posteriordb's). Issue 22 asks for no more divergences on
# eight_schools_noncentered than Stan reports; this measures what Stan reports.
#
#   bash benchmarks/stan_divergences.sh [--posterior NAME] [--seeds N] [--build DIR]
#
# Defaults: eight_schools-eight_schools_noncentered, seeds 1..20, build/ (its
# examples/posteriordb). Installs r-cran-rstan and r-cran-jsonlite with apt-get when R cannot
# load them (root). Prints one line per seed and side, then the totals.
set -euo pipefail
cd "$(dirname "$0")/.."
posterior=eight_schools-eight_schools_noncentered
seeds=20
build=build
while (($#)); do
  if [[ $1 == --posterior || $1 == --seeds || $1 == --build ]] && (($# < 2)); then
    echo "stan_divergences.sh: $1 needs a value" >&2
    exit 2
  fi
  case $1 in
    --posterior) posterior=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "stan_divergences.sh: unknown argument '$1' (--posterior NAME, --seeds N, --build DIR)" >&2; exit 2 ;;
  esac
done
folder=tests/posteriordb/$posterior
[[ -f $folder/model.stan && -f $folder/data.json ]] || {
  echo "stan_divergences.sh: no model.stan and data.json in $folder" >&2
  exit 2
}
[[ $seeds =~ ^[1-9][0-9]*$ ]] || { echo "stan_divergences.sh: --seeds takes a whole number >= 1, not '$seeds'" >&2; exit 2; }
program=$build/examples/posteriordb
[[ -x $program ]] || { echo "stan_divergences.sh: $program is not built (cmake --build $build --target posteriordb)" >&2; exit 2; }
if ! Rscript -e 'suppressMessages({library(rstan); library(jsonlite)})' >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-cran-rstan r-cran-jsonlite >/dev/null
fi

# Debian's r-cran-bh is a virtual package over libboost-dev without the include/ folder that
# rstan looks for (system.file("include", package = "BH")): point it at the system's headers.
bh=$(Rscript -e 'cat(system.file(package = "BH"))')
if [[ -n $bh && ! -e $bh/include ]]; then ln -s /usr/include "$bh/include"; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== Stan (rstan $(Rscript -e 'cat(as.character(packageVersion("rstan")))'))"
Rscript - "$folder" "$seeds" <<'R'
suppressMessages({ library(rstan); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
seeds <- as.integer(args[2])
# rstan 2.21 predates Stan 2.26's array syntax: "array[N] real<lower=0> y;" is written there
# "real<lower=0> y[N];" (the posteriordb programs use no other newer syntax).
code <- readLines(file.path(folder, "model.stan"))
code <- gsub("array\\[([^]]*)\\]\\s+(.*\\S)\\s+(\\w+)\\s*;", "\\2 \\3[\\1];", code, perl = TRUE)
model <- stan_model(model_code = paste(code, collapse = "\n"))
data <- fromJSON(file.path(folder, "data.json"))
total <- 0
for (seed in seq_len(seeds)) {
  fit <- sampling(model, data = data, chains = 4, iter = 2000, warmup = 1000, seed = seed,
                  control = list(adapt_delta = 0.8, max_treedepth = 10), refresh = 0)
  divergent <- sum(sapply(get_sampler_params(fit, inc_warmup = FALSE), function(p) sum(p[, "divergent__"])))
  total <- total + divergent
  cat(sprintf("stan   seed %3d: %d divergences\n", seed, divergent))
}
cat(sprintf("stan   total: %d divergences in %d runs of 4000 draws\n", total, seeds))
R

echo "== vaelib ($program)"
total=0
for ((seed = 1; seed <= seeds; ++seed)); do
  "$program" --posterior "$posterior" --seed "$seed" --quiet --output "$work/vaelib" >"$work/log" 2>&1 || true
  n=$(grep -o '[0-9]* divergences after warm-up' "$work/log" | grep -o '^[0-9]*') || {
    echo "stan_divergences.sh: no divergence count in the output of $program:" >&2
    cat "$work/log" >&2
    exit 1
  }
  total=$((total + n))
  verdict=FAIL
  grep -q '^PASS' "$work/log" && verdict=PASS
  printf 'vaelib seed %3d: %d divergences (reference check: %s)\n' "$seed" "$n" "$verdict"
done
printf 'vaelib total: %d divergences in %d runs of 4000 draws\n' "$total" "$seeds"
