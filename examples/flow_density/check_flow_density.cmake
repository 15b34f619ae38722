# ctest: flow_density on a short run. Planar flows fitted to Rezende & Mohamed's first energy
# must reach KL(q || p) below 0.4 nats (0.10 measured after 2000 steps, 1000 here; a single
# Gaussian cannot go below ~0.7 on this ring), and coupling layers fitted to two moons must
# beat a Gaussian's test NLL by 0.3 nats per point or more (0.8 measured); each picture is
# written.
#   cmake -DPROGRAM=... -DWORK_DIR=... -P check_flow_density.cmake

file(REMOVE_RECURSE ${WORK_DIR})
execute_process(COMMAND ${PROGRAM} --target u1 moons --steps 1000 --grid 60 --output ${WORK_DIR}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "flow_density:\n${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "flow_density failed with ${rc}")
endif()
if(NOT out MATCHES "u1: KL\\(q \\|\\| p\\) = (-?[0-9.]+) nats")
  message(FATAL_ERROR "flow_density: no 'u1: KL(q || p) = ...' line")
endif()
set(kl ${CMAKE_MATCH_1})
if(kl GREATER_EQUAL 0.4 OR kl LESS -0.05)
  message(FATAL_ERROR "flow_density: KL(q || p) = ${kl} for u1, expected in [-0.05, 0.4) (a small negative value is Monte Carlo noise)")
endif()
if(NOT out MATCHES "moons: test NLL = ([0-9.]+) nats per point \\(a Gaussian: ([0-9.]+), worse by (-?[0-9.]+);")
  message(FATAL_ERROR "flow_density: no 'moons: test NLL = ...' line")
endif()
set(margin ${CMAKE_MATCH_3})
if(margin LESS 0.3)
  message(FATAL_ERROR "flow_density: the moons' test NLL ${CMAKE_MATCH_1} beats a Gaussian's ${CMAKE_MATCH_2} by ${margin} nats, expected >= 0.3")
endif()
foreach(file u1.png moons.png metrics.jsonl)
  if(NOT EXISTS ${WORK_DIR}/${file})
    message(FATAL_ERROR "flow_density did not write ${file}")
  endif()
endforeach()
