# ctest: every numeric option of an example refuses negative, out-of-range and malformed
# values before any work, with a message naming the option, the accepted range and the value
# (issue 20: --ll-particles -1 once meant 2^64 - 1 particles and hung). Values are passed as
# --option=value, so that -inf is not read as short flags.
#   cmake -DPROGRAM=... -DNAME=<example> -P check_options.cmake
# The table below lists each example's numeric options; the bounds are those documented in
# examples/common/cli_checks.hpp.

# option:low:high for whole-number options
set(common_counts
  --epochs:1:1000000 --batch-size:1:1000000 --seed:0:18446744073709551615
  --train-n:0:100000000 --test-n:0:100000000 --ll-particles:0:1000000 --ll-test-n:0:100000000
  --ais-chains:1:1000000 --ais-temperatures:1:1000000)
set(family_counts ${common_counts} --validation-n:0:100000000 --patience:0:1000000)
set(counts_vae ${common_counts} --latent:1:1000000 --hidden:1:1000000 --save-freq:0:1000000)
set(counts_gaussian_vae ${family_counts} --latent:1:1000000)
set(counts_continuous_bernoulli_vae ${family_counts} --latent:1:1000000)
set(counts_course_vae ${family_counts} --latent:1:1000000 --hidden:1:1000000)
set(counts_iwae ${family_counts} --particles:1:10000 --latent:1:1000000 --stochastic-layers:1:2)
set(counts_vae_nf ${family_counts} --flow-length:1:1000000 --iaf-hidden:1:1000000 --particles:1:10000
  --latent:1:1000000)
set(counts_vae_conv ${family_counts} --latent:1:1000000)
set(counts_flow_density --steps:1:1000000000 --batch-size:1:1000000 --flow-length:1:1000000
  --coupling-layers:1:1000000 --grid:1:4000 --seed:0:18446744073709551615)
set(counts_bernoulli_latent_vae ${family_counts} --latent:1:1000000 --particles:1:10000)
set(counts_autoencoder_gmm ${family_counts} --components:1:1000000 --em-iterations:1:1000000 --vae-epochs:0:1000000)
# the MCMC examples (issue 22)
set(u64 18446744073709551615)
set(counts_hmc_gaussian --dims:1:1000000 --leapfrog:1:10000 --max-tree-depth:1:30 --chains:1:1000
  --warmup:0:1000000 --draws:1:1000000 --seed:0:${u64})
set(counts_posteriordb --chains:1:1000 --warmup:0:10000000 --draws:8:10000000 --seed:0:${u64} --max-tree-depth:1:30)
set(counts_bnn_sgmcmc --epochs:1:1000000 --batch-size:1:1000000 --burn-in:0:1000000 --thin:1:1000000
  --samples:1:10000 --hidden:1:1000000 --train-n:0:100000000 --test-n:0:100000000 --seed:0:${u64})
set(counts_sgmcmc_mixture --chains:1:1000000 --iterations:1:100000000 --burn-in:0:100000000 --thin:1:100000000
  --seed:0:${u64})
# options taking a number above 0 (--lr unless listed), and options taking any finite number
set(positive_numbers_bnn_sgmcmc --lr --prior-sd --tune-rate)
set(positive_numbers_hmc_gaussian "")
set(positive_numbers_posteriordb "")
set(positive_numbers_sgmcmc_mixture "")
set(finite_numbers_gaussian_vae --min-logstd)
# examples without --threads, and the flag that turns each one's progress bar off
set(without_threads hmc_gaussian sgmcmc_mixture flow_density)
set(quiet_flag_flow_density "")
set(quiet_flag_hmc_gaussian "")
set(quiet_flag_sgmcmc_mixture "")
set(quiet_flag_posteriordb --quiet)
if(NOT DEFINED counts_${NAME})
  message(FATAL_ERROR "check_options.cmake: no option table for '${NAME}'")
endif()
if(NOT DEFINED positive_numbers_${NAME})
  set(positive_numbers_${NAME} --lr)
endif()
if(NOT DEFINED quiet_flag_${NAME})
  set(quiet_flag_${NAME} --no-progress)
endif()

set(EXPECT_FAILURE_EXTRA_ARGS ${quiet_flag_${NAME}})
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

foreach(entry IN LISTS counts_${NAME})
  string(REPLACE ":" ";" entry "${entry}")
  list(GET entry 0 option)
  list(GET entry 1 low)
  list(GET entry 2 high)
  set(bad -1 -5 1.5 abc 99999999999999999999 18446744073709551616)
  if(low GREATER 0)
    list(APPEND bad 0)
  endif()
  if(NOT high STREQUAL "18446744073709551615")
    # high + 1, and 2^64 - 1 (what -1 became in a size_t)
    math(EXPR above "${high} + 1")
    list(APPEND bad ${above} 18446744073709551615)
  endif()
  foreach(value IN LISTS bad)
    expect_failure("${option}: expected a whole number of at least ${low} and at most ${high}, got '${value}'"
      ${option}=${value})
  endforeach()
endforeach()

# --threads: 0 to the machine's hardware threads
list(FIND without_threads "${NAME}" threads_missing)
if(threads_missing EQUAL -1)
  foreach(value -1 1000000 abc 2.5)
    expect_failure("--threads: expected a whole number of at least 0 and at most [0-9]+, got '${value}'" --threads=${value})
  endforeach()
endif()

foreach(option IN LISTS positive_numbers_${NAME})
  foreach(value -1 0 inf nan abc 1e999)
    expect_failure("${option}: expected a number above 0, got '${value}'" ${option}=${value})
  endforeach()
endforeach()
foreach(option IN LISTS finite_numbers_${NAME})
  foreach(value inf -inf nan abc 1e999)
    expect_failure("${option}: expected a finite number, got '${value}'" ${option}=${value})
  endforeach()
endforeach()
message(STATUS "${NAME}: ${EXPECT_FAILURE_COUNT} bad values refused, each naming its option and value")
