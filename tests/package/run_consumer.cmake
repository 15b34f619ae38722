# Installs vaelib into a fresh prefix, then builds two (three with MPI) consumer programs, each twice: once
# finding vaelib with find_package(vaelib CONFIG REQUIRED ...), once with add_subdirectory.
#   consumer/     the core alone (vaelib::vaelib). Configured with CMAKE_DISABLE_FIND_PACKAGE_ZLIB
#                 and _PNG, so neither package can be found, and compiled with forbidden_headers/
#                 first on its include path, whose zlib.h and png.h stop the build with an #error:
#                 it proves vaelib/vae.hpp and the core target need neither zlib nor libpng.
#   io_consumer/  COMPONENTS io (vaelib::io): writes a PNG grid and reads it back.
#   distributed_consumer/  COMPONENTS distributed (vaelib::distributed), when the build has it
#                 (MPIEXEC given), found with find_package only: fits a parameter on two MPI ranks.
# Then components/ checks find_package(vaelib)'s component handling (unknown, optional, required).
# Each build must configure, compile, run and print the expected result.

function(run_checked what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "package test: ${what} failed (${result})\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run_checked("install into ${WORK_DIR}/prefix" ${CMAKE_COMMAND} --install ${VAELIB_BINARY_DIR} --prefix ${WORK_DIR}/prefix)
set(export_files vaelibConfig.cmake vaelibTargets.cmake vaelibIoTargets.cmake)
if(MPIEXEC)
  list(APPEND export_files vaelibDistributedTargets.cmake)
endif()
foreach(file IN LISTS export_files)
  if(NOT EXISTS ${WORK_DIR}/prefix/share/cmake/vaelib/${file})
    message(FATAL_ERROR "package test: the install has no share/cmake/vaelib/${file}")
  endif()
endforeach()

set(no_zlib_png -DCMAKE_DISABLE_FIND_PACKAGE_ZLIB=ON -DCMAKE_DISABLE_FIND_PACKAGE_PNG=ON)
foreach(mode find_package add_subdirectory)
  if(mode STREQUAL find_package)
    set(extra -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
  else()
    set(extra -DVAELIB_ADD_SUBDIRECTORY=${VAELIB_SOURCE_DIR})
  endif()

  set(build ${WORK_DIR}/${mode})
  run_checked("configure the ${mode} core consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/consumer -B ${build}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} ${extra} ${no_zlib_png})
  run_checked("build the ${mode} core consumer (without zlib and libpng)" ${CMAKE_COMMAND} --build ${build})
  run_checked("run the ${mode} core consumer" ${build}/consumer)
  if(NOT last_output MATCHES "d/dx sum\\(x \\* x\\) = \\[2, 4, 6\\]")
    message(FATAL_ERROR "package test: the ${mode} core consumer printed an unexpected result:\n${last_output}")
  endif()
  message(STATUS "${mode} core consumer: ${last_output}")

  set(build ${WORK_DIR}/${mode}_io)
  set(png ${build}/grid.png)
  run_checked("configure the ${mode} io consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/io_consumer -B ${build}
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} ${extra})
  run_checked("build the ${mode} io consumer" ${CMAKE_COMMAND} --build ${build})
  run_checked("run the ${mode} io consumer" ${build}/io_consumer ${png})
  # six 4x4 images, 2 rows x 3 columns, 1 pixel of padding: (3*5+1) x (2*5+1)
  if(NOT last_output MATCHES "wrote and read back a 16x11 PNG")
    message(FATAL_ERROR "package test: the ${mode} io consumer printed an unexpected result:\n${last_output}")
  endif()
  file(READ ${png} signature LIMIT 8 HEX)
  if(NOT signature STREQUAL "89504e470d0a1a0a")
    message(FATAL_ERROR "package test: ${png} does not start with the PNG signature (${signature})")
  endif()
  message(STATUS "${mode} io consumer: ${last_output}")

  # (the in-tree target is what vaelib's own examples and tests link: the installed one here)
  if(MPIEXEC AND mode STREQUAL find_package)
    set(build ${WORK_DIR}/${mode}_distributed)
    run_checked("configure the ${mode} distributed consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/distributed_consumer
      -B ${build} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} ${extra})
    run_checked("build the ${mode} distributed consumer" ${CMAKE_COMMAND} --build ${build})
    set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
    set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
    set(ENV{OMPI_MCA_rmaps_base_oversubscribe} 1)
    run_checked("run the ${mode} distributed consumer on 2 ranks" ${MPIEXEC} -n 2 ${build}/distributed_consumer)
    # SGD on the mean of (w - y)^2 over 1, 2, 3, 6 converges to their mean, 3
    if(NOT last_output MATCHES "rank 0 of 2: w = 3.0000" OR NOT last_output MATCHES "rank 1 of 2: w = 3.0000")
      message(FATAL_ERROR "package test: the ${mode} distributed consumer printed an unexpected result:\n${last_output}")
    endif()
    message(STATUS "${mode} distributed consumer: ${last_output}")
  endif()
endforeach()

set(build ${WORK_DIR}/components)
run_checked("find_package(vaelib) component checks" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/components -B ${build}
  -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/components -B ${build}_required_unknown
  -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DREQUIRE_UNKNOWN=ON
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0 OR NOT err MATCHES "vaelib has no component no_such_component")
  message(FATAL_ERROR "package test: find_package(vaelib REQUIRED COMPONENTS io no_such_component) must fail "
    "naming the component (exit ${result})\n${out}\n${err}")
endif()
message(STATUS "components: an unknown required component fails: it says \"vaelib has no component no_such_component\"")
