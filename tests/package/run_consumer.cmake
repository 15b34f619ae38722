# Installs vaelib into a fresh prefix and builds a consumer program twice: once finding
# vaelib with find_package(vaelib CONFIG REQUIRED), once with add_subdirectory. Each build
# must configure, compile, and print the expected gradient.

function(run_checked what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "package test: ${what} failed (${result})\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run_checked("install into ${WORK_DIR}/prefix" ${CMAKE_COMMAND} --install ${VAELIB_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
if(NOT EXISTS ${WORK_DIR}/prefix/share/cmake/vaelib/vaelibConfig.cmake)
  message(FATAL_ERROR "package test: the install has no share/cmake/vaelib/vaelibConfig.cmake")
endif()

foreach(mode find_package add_subdirectory)
  set(build ${WORK_DIR}/${mode})
  if(mode STREQUAL find_package)
    set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  else()
    set(extra -DVAELIB_ADD_SUBDIRECTORY=${VAELIB_SOURCE_DIR})
  endif()
  run_checked("configure the ${mode} consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer -B ${build}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} ${extra})
  run_checked("build the ${mode} consumer" ${CMAKE_COMMAND} --build ${build})
  run_checked("run the ${mode} consumer" ${build}/consumer)
  if(NOT last_output MATCHES "d/dx sum\\(x \\* x\\) = \\[2, 4, 6\\]")
    message(FATAL_ERROR "package test: the ${mode} consumer printed an unexpected result:\n${last_output}")
  endif()
  message(STATUS "${mode} consumer: ${last_output}")
endforeach()
