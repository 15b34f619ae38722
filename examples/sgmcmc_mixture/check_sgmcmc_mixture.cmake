# ctest: ZhuSuan's toy SGNHT example with all four samplers, 500 chains x 12,000 steps with
# gradient noise of sd 1, a draw every 40 steps after 4,000. Bands measured with seeds 1 and 2
# (docs/examples.md), about 0.05-0.1 wider than what they gave:
#   sd of the draws within 3% of the mixture's sqrt(4.25) = 2.0616 (measured 2.050-2.067)
#   mean in [0.85, 1.15] (0.93-1.08: the chains hardly cross between modes, so the share of
#     each mode is where the chains settled at the start), right-hand share in [0.45, 0.55]
#   sd within the right-hand mode: SGLD, PSGLD, SGHMC in [0.48, 0.54] (0.501-0.514, the truth
#     0.5); SGNHT in [0.44, 0.48] (0.460: its first-order integrator, at friction about 0.31,
#     narrows the variance by 1 - 0.31/2, to sd 0.46)
# and the histograms and density.png written.
#   cmake -DPROGRAM=... -DWORK_DIR=... -P check_sgmcmc_mixture.cmake

file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${PROGRAM} --sampler all --chains 500 --iterations 12000 --burn-in 4000 --thin 40 --seed 1
                  --output ${WORK_DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "sgmcmc_mixture:\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "sgmcmc_mixture failed with ${rc}")
endif()

set(number "(-?[0-9.]+)")
foreach(sampler sgnht sgld psgld sghmc)
  if(NOT out MATCHES "\n${sampler} +${number} +${number} +${number} +${number} ")
    message(FATAL_ERROR "sgmcmc_mixture: no result line for ${sampler}")
  endif()
  set(mean ${CMAKE_MATCH_1})
  set(sd ${CMAKE_MATCH_2})
  set(share ${CMAKE_MATCH_3})
  set(right_sd ${CMAKE_MATCH_4})
  if(sampler STREQUAL "sgnht")
    set(low 0.44)
    set(high 0.48)
  else()
    set(low 0.48)
    set(high 0.54)
  endif()
  if(sd LESS 2.0 OR sd GREATER 2.125 OR mean LESS 0.85 OR mean GREATER 1.15 OR share LESS 0.45 OR share GREATER 0.55
     OR right_sd LESS low OR right_sd GREATER high)
    message(FATAL_ERROR "${sampler}: sd ${sd} (in [2.0, 2.125]), mean ${mean} (in [0.85, 1.15]), right-hand share "
                        "${share} (in [0.45, 0.55]), right-hand sd ${right_sd} (in [${low}, ${high}])")
  endif()
  if(NOT EXISTS ${WORK_DIR}/${sampler}_histogram.png)
    message(FATAL_ERROR "sgmcmc_mixture did not write ${sampler}_histogram.png")
  endif()
endforeach()
if(NOT EXISTS ${WORK_DIR}/density.png)
  message(FATAL_ERROR "sgmcmc_mixture did not write density.png")
endif()

# a burn-in that leaves nothing is refused naming the option
execute_process(COMMAND ${PROGRAM} --iterations 100 --burn-in 100 --output ${WORK_DIR}/bad
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "--burn-in 100 leaves no iteration")
  message(FATAL_ERROR "sgmcmc_mixture --iterations 100 --burn-in 100 was accepted or gave no message naming --burn-in: ${out}${err}")
endif()
