# ctest: runs one VAE-family example on a slice of MNIST and checks what it promises.
#   cmake -DPROGRAM=... -DWORK_DIR=... -DARGS="a|b|..." -DLOW=.. -DHIGH=..
#         -DIMAGES="a.png|b.png" -P check_example.cmake
# MNIST is found at test time by find_data.cmake ($VAELIB_DATA, <source>/data, ...).
# Asserts: --help works; the run succeeds; the train bound improves from the first epoch to
# the last; the test lower bound lies in [LOW, HIGH]; the importance-sampled log-likelihood
# is not below it; every listed image is written.

# Optional: TRAIN_KEY / TEST_KEY, the metrics to read (default the lower bounds).
if(NOT DEFINED TRAIN_KEY)
  set(TRAIN_KEY train_lower_bound)
endif()
if(NOT DEFINED TEST_KEY)
  set(TEST_KEY test_lower_bound)
endif()
string(REPLACE "|" ";" ARGS "${ARGS}")
string(REPLACE "|" ";" IMAGES "${IMAGES}")
file(REMOVE_RECURSE ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/find_data.cmake)
vaelib_find_data(data mnist)

execute_process(COMMAND ${PROGRAM} --help RESULT_VARIABLE rc OUTPUT_VARIABLE help)
if(NOT rc EQUAL 0 OR NOT help MATCHES "--epochs")
  message(FATAL_ERROR "${PROGRAM} --help failed:\n${help}")
endif()

execute_process(COMMAND ${PROGRAM} --data ${data} --output ${WORK_DIR} --no-progress ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} failed with ${rc}")
endif()

file(STRINGS ${WORK_DIR}/metrics.jsonl lines)
set(train_lb "")
foreach(line IN LISTS lines)
  string(JSON lb ERROR_VARIABLE no_lb GET "${line}" ${TRAIN_KEY})
  if(NOT no_lb)
    list(APPEND train_lb ${lb})
  endif()
  string(JSON t ERROR_VARIABLE no_t GET "${line}" ${TEST_KEY})
  if(NOT no_t AND NOT DEFINED test_lb)
    set(test_lb ${t})
    string(JSON ll ERROR_VARIABLE no_ll GET "${line}" test_log_likelihood)
    if(no_ll)
      set(ll "")
    endif()
  endif()
endforeach()
list(GET train_lb 0 first)
list(GET train_lb -1 last)
message(STATUS "train bound ${first} -> ${last}; test bound ${test_lb} (band [${LOW}, ${HIGH}]); log-likelihood ${ll}")
if(NOT last GREATER first)
  message(FATAL_ERROR "the train bound did not improve: ${first} -> ${last}")
endif()
if(test_lb LESS ${LOW} OR test_lb GREATER ${HIGH})
  message(FATAL_ERROR "test lower bound ${test_lb} is outside the band [${LOW}, ${HIGH}]")
endif()
if(NOT ll STREQUAL "" AND ll LESS test_lb)
  message(FATAL_ERROR "the log-likelihood estimate ${ll} is below the lower bound ${test_lb}")
endif()
foreach(image IN LISTS IMAGES)
  if(NOT EXISTS ${WORK_DIR}/${image})
    message(FATAL_ERROR "the example did not write ${image}")
  endif()
endforeach()
