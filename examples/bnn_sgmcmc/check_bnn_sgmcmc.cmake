# ctest: the Bayesian neural network on a slice of MNIST (5,000 training images, 2,000 test
# images, 8 epochs, draws kept every 10 steps after 3 epochs of burn-in), by Adam, SGLD and
# SGHMC. Asserts each test accuracy in its band, SGLD's and SGHMC's expected calibration error
# at most 0.03 above Adam's, and the files written. Bands measured with seeds 1 and 2
# (docs/examples.md): accuracy 0.896-0.900 (adam), 0.883 (sgld), 0.895-0.903 (sghmc); ECE
# 0.022-0.025 (adam), 0.024-0.027 (sgld), 0.035-0.043 (sghmc: the slice's posterior predictive
# is underconfident).
#   cmake -DPROGRAM=... -DWORK_DIR=... -P check_bnn_sgmcmc.cmake
# MNIST is found at test time by ../find_data.cmake ($VAELIB_DATA, <source>/data, ...).

file(REMOVE_RECURSE ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/../find_data.cmake)
vaelib_find_data(data mnist)

# a bad option is refused naming it
execute_process(COMMAND ${PROGRAM} --sampler sgld --epochs 3 --burn-in 3 --data ${data} --output ${WORK_DIR}/bad
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0 OR NOT err MATCHES "--burn-in 3 leaves no epoch")
  message(FATAL_ERROR "bnn_sgmcmc --epochs 3 --burn-in 3 was accepted or gave no message naming --burn-in: ${out}${err}")
endif()

foreach(sampler adam sgld sghmc)
  execute_process(COMMAND ${PROGRAM} --sampler ${sampler} --data ${data} --train-n 5000 --test-n 2000 --epochs 8
                    --burn-in 3 --thin 10 --seed 1 --no-progress --output ${WORK_DIR}/${sampler}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "bnn_sgmcmc --sampler ${sampler}:\n${out}${err}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bnn_sgmcmc --sampler ${sampler} failed with ${rc}")
  endif()
  foreach(file metrics.jsonl reliability.png reliability.csv)
    if(NOT EXISTS ${WORK_DIR}/${sampler}/${file})
      message(FATAL_ERROR "bnn_sgmcmc --sampler ${sampler} did not write ${file}")
    endif()
  endforeach()
  file(READ ${WORK_DIR}/${sampler}/metrics.jsonl line)
  string(JSON accuracy_${sampler} GET "${line}" test_accuracy)
  string(JSON ece_${sampler} GET "${line}" ece)
  string(JSON nll_${sampler} GET "${line}" test_nll)
endforeach()
message(STATUS "accuracy / NLL / ECE: adam ${accuracy_adam} / ${nll_adam} / ${ece_adam}, "
               "sgld ${accuracy_sgld} / ${nll_sgld} / ${ece_sgld}, sghmc ${accuracy_sghmc} / ${nll_sghmc} / ${ece_sghmc}")

# about 0.02 below and above what seeds 1 and 2 gave
foreach(band "adam|0.875|0.925" "sgld|0.86|0.91" "sghmc|0.87|0.925")
  string(REPLACE "|" ";" band "${band}")
  list(GET band 0 sampler)
  list(GET band 1 low)
  list(GET band 2 high)
  if(accuracy_${sampler} LESS low OR accuracy_${sampler} GREATER high)
    message(FATAL_ERROR "${sampler}: test accuracy ${accuracy_${sampler}} is outside [${low}, ${high}]")
  endif()
endforeach()
# calibration: the samplers' ECE no more than 0.03 above Adam's (measured: +0.002 to +0.003
# for SGLD, +0.013 to +0.018 for SGHMC). cmake's math() has only integers: in millionths.
function(to_millionths var value)
  if(value MATCHES "^([0-9]+)\\.([0-9]*)$")
    string(SUBSTRING "${CMAKE_MATCH_2}000000" 0 6 fraction)
    math(EXPR result "${CMAKE_MATCH_1} * 1000000 + 1${fraction} - 1000000")
  elseif(value MATCHES "^[0-9]+$")
    math(EXPR result "${value} * 1000000")
  elseif(value MATCHES "^[0-9.]+e-[0-9]+$")  # below 1e-4 (%.10g writes it so)
    set(result 0)
  else()
    message(FATAL_ERROR "not a number in metrics.jsonl: '${value}'")
  endif()
  set(${var} ${result} PARENT_SCOPE)
endfunction()
to_millionths(adam_ece_millionths ${ece_adam})
foreach(sampler sgld sghmc)
  to_millionths(sampler_ece_millionths ${ece_${sampler}})
  math(EXPR excess "${sampler_ece_millionths} - ${adam_ece_millionths}")
  if(excess GREATER 30000)
    message(FATAL_ERROR "${sampler}: ECE ${ece_${sampler}} is more than 0.03 above Adam's ${ece_adam}")
  endif()
endforeach()
