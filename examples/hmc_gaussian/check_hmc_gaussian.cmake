# ctest: ZhuSuan's toy HMC example with HMC (jittered steps) and with NUTS, each with a dense
# metric once: every dimension's sample standard deviation within 10% of the truth, every
# mean within 4 Monte Carlo standard errors of 0, R-hat below 1.02, and the files written.
#   cmake -DPROGRAM=... -DWORK_DIR=... -P check_hmc_gaussian.cmake

file(REMOVE_RECURSE ${WORK_DIR})
foreach(args "--kernel;hmc" "--kernel;nuts" "--kernel;hmc;--dense" "--kernel;nuts;--dense;--dims;5")
  execute_process(COMMAND ${PROGRAM} ${args} --seed 3 --output ${WORK_DIR}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "hmc_gaussian ${args}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "hmc_gaussian ${args} failed with ${rc}")
  endif()
  if(NOT out MATCHES "largest \\|sd error\\| ([0-9.]+)%, largest \\|mean z\\| ([0-9.]+), largest R-hat ([0-9.]+)")
    message(FATAL_ERROR "hmc_gaussian ${args}: no 'largest |sd error| ...' line")
  endif()
  set(sd_error ${CMAKE_MATCH_1})
  set(z ${CMAKE_MATCH_2})
  set(rhat ${CMAKE_MATCH_3})
  if(sd_error GREATER_EQUAL 10 OR z GREATER_EQUAL 4 OR rhat GREATER_EQUAL 1.02)
    message(FATAL_ERROR "hmc_gaussian ${args}: |sd error| ${sd_error}% (< 10), |z| ${z} (< 4), R-hat ${rhat} (< 1.02)")
  endif()
  foreach(file draws.csv x1_histogram.png)
    if(NOT EXISTS ${WORK_DIR}/${file})
      message(FATAL_ERROR "hmc_gaussian ${args} did not write ${file}")
    endif()
  endforeach()
endforeach()
