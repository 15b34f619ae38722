# ctest: vae_conv --dataset cifar10 given no CIFAR-10 files, or damaged ones, stops with a
# message naming the folder (with where to get and put the data), or the file and the byte
# offset; never a crash, never a run on other data.
#   cmake -DPROGRAM=... -DCRAFTED=<make_cifar10_files.py's folder> -DWORK_DIR=... -P check_cifar10_input.cmake
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/empty ${WORK_DIR}/truncated)
set(EXPECT_FAILURE_VERBOSE ON)
set(EXPECT_FAILURE_EXTRA_ARGS --dataset cifar10 --no-progress --ll-particles 0 --output ${WORK_DIR}/out)
include(${CMAKE_CURRENT_LIST_DIR}/../expect_failure.cmake)

# a --data folder without the files: named, with where to get them and where to put them
expect_failure("--data ${WORK_DIR}/empty: no CIFAR-10 files .*cifar-10-batches-bin.*CIFAR-10 binary version.*put its files"
               --data ${WORK_DIR}/empty)
# a training file cut mid-record (10000 bytes: three records and 781 bytes of a fourth)
file(GLOB files ${CRAFTED}/*.bin)
file(COPY ${files} DESTINATION ${WORK_DIR}/truncated)
execute_process(COMMAND truncate -s 10000 ${WORK_DIR}/truncated/data_batch_3.bin COMMAND_ERROR_IS_FATAL ANY)
expect_failure("truncated/data_batch_3\\.bin: truncated record at offset 9219 \\(781 of its 3073 bytes\\)"
               --data ${WORK_DIR}/truncated)
message(STATUS "${EXPECT_FAILURE_COUNT} bad inputs refused with their messages")
if(EXISTS ${WORK_DIR}/out/checkpoint.npz)
  message(FATAL_ERROR "a refused run wrote a checkpoint")
endif()
