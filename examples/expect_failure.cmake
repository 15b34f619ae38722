# expect_failure(expected args...), shared by the bad-input checks (check_bad_input.cmake,
# check_options.cmake): runs ${PROGRAM} with the arguments (then EXPECT_FAILURE_EXTRA_ARGS);
# it must end with a non-zero exit status (not a signal, not a hang past two minutes) and
# print a message matching the regular expression `expected`. EXPECT_FAILURE_COUNT counts
# the checks; with EXPECT_FAILURE_VERBOSE each one is printed.
set(EXPECT_FAILURE_COUNT 0)
function(expect_failure expected)
  execute_process(COMMAND ${PROGRAM} ${ARGN} ${EXPECT_FAILURE_EXTRA_ARGS}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 120)
  if(NOT rc MATCHES "^[0-9]+$")
    message(FATAL_ERROR "${PROGRAM} ${ARGN}: crashed or hung (${rc}):\n${out}${err}")
  endif()
  if(rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN}: succeeded, expected a failure matching '${expected}':\n${out}${err}")
  endif()
  if(NOT "${out}${err}" MATCHES "${expected}")
    message(FATAL_ERROR "${PROGRAM} ${ARGN}: expected a message matching '${expected}', got:\n${out}${err}")
  endif()
  if(EXPECT_FAILURE_VERBOSE)
    message(STATUS "ok (exit ${rc}): ${ARGN}\n  ${err}")
  endif()
  math(EXPR n "${EXPECT_FAILURE_COUNT} + 1")
  set(EXPECT_FAILURE_COUNT ${n} PARENT_SCOPE)
endfunction()
