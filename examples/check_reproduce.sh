#!/usr/bin/env bash
# ctest: examples/reproduce.sh refuses an unknown experiment name and a missing build before
# running anything (each experiment takes minutes), with a message naming what was wrong.
#   bash check_reproduce.sh <path of reproduce.sh> <scratch folder>
set -uo pipefail
script=$1
scratch=$2
rm -rf "$scratch" && mkdir -p "$scratch/no_build"
failed=0

# expect <regex> <arguments...>: reproduce.sh must exit 1 with stderr matching <regex>
expect() {
  local expected=$1
  shift
  local err rc
  # the empty build folder: even if a check were missing, nothing could be trained
  err=$(VAELIB_BUILD_DIR="$scratch/no_build" bash "$script" "$@" 2>&1 >/dev/null)
  rc=$?
  if [[ $rc -ne 1 || ! $err =~ $expected ]]; then
    echo "FAIL: reproduce.sh $*: exit $rc, expected 1 and a message matching '$expected', got: $err"
    failed=1
  else
    echo "ok: reproduce.sh $*: $err"
  fi
}

expect "^reproduce.sh: no experiment named 'nosuch' \(see --list\)$" nosuch
expect "^reproduce.sh: no experiment named 'nosuch' \(see --list\)$" gaussian_vae nosuch
expect "^reproduce.sh: no experiment named '--bogus' \(see --list\)$" --bogus
expect "^reproduce.sh: $scratch/no_build/examples/gaussian_vae is not built \(cmake --build build\)$" gaussian_vae
expect "^reproduce.sh: $scratch/no_build/examples/iwae is not built" iwae_k50 iwae_k1
exit $failed
