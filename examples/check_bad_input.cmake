# ctest: an example given a bad command line or bad data stops with exit status 1 (or CLI11's
# own status for a bad option) and a message naming what was wrong; never a crash, never a
# run on other data than was asked for.
#   cmake -DPROGRAM=... -DKIND=vae|family|vimco|gmm|iwae -DWORK_DIR=... -P check_bad_input.cmake
# KIND: vae (examples/vae), family (the VAE-family harness), vimco (bernoulli_latent_vae),
# gmm (autoencoder_gmm, which has no --resume), iwae (its --stochastic-layers and --objective). MNIST is found at test time by find_data.cmake,
# raw or .gz; the damaged folders below are built from whichever form it holds.

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/find_data.cmake)
vaelib_find_data(mnist mnist)
# each real file: name_<file> its name in ${mnist} (<file> or <file>.gz), re_<file> that name
# as a regular expression
foreach(f IN LISTS VAELIB_DATA_FILES)
  vaelib_data_file(path ${mnist} ${f})
  get_filename_component(name_${f} ${path} NAME)
  string(REPLACE "." "\\." re_${f} "${name_${f}}")
endforeach()
# small runs: a slice, no log-likelihood, no progress bar
set(slice --train-n 200 --test-n 100 --ll-particles 0 --no-progress)
set(small ${slice} --batch-size 100)

set(EXPECT_FAILURE_VERBOSE ON)
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

# ---- the command line ---------------------------------------------------------------------
expect_failure("not expected: --bogus" --bogus)
expect_failure("--batch-size: expected a whole number of at least 1 and at most [0-9]+, got '0'" --batch-size 0)
expect_failure("--batch-size: expected a whole number of at least 1 and at most [0-9]+, got '-5'" --batch-size -5)
expect_failure("--epochs: expected a whole number of at least 1 and at most [0-9]+, got '0'" --epochs 0)
expect_failure("--epochs: expected a whole number of at least 1 and at most [0-9]+, got 'two'" --epochs two)
expect_failure("--lr: expected a number above 0, got '-1'" --lr -1)
expect_failure("--lr: expected a number above 0, got 'abc'" --lr abc)
expect_failure("--dataset: foo not in \\{mnist,fashion-mnist\\}" --dataset foo)
expect_failure("--epochs: 1 required UINT:POSITIVE missing" --epochs)

# ---- the data folder ----------------------------------------------------------------------
# a --data folder without the data is an error: no search elsewhere (the places searched by
# default have it)
set(empty ${WORK_DIR}/empty)
file(MAKE_DIRECTORY ${empty})
expect_failure("cannot find mnist in ${empty}: it has no train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte \\(nor .gz\\); nor in ${empty}/mnist"
  --data ${empty} ${small} --output ${WORK_DIR}/out)
expect_failure("cannot find mnist in ${WORK_DIR}/typo: it does not exist"
  --data ${WORK_DIR}/typo ${small} --output ${WORK_DIR}/out)

# folders whose files are wrong: built from the real ones (links, in the form they have) and
# cut or swapped copies
function(make_data_folder folder)
  file(MAKE_DIRECTORY ${folder})
  foreach(f IN LISTS VAELIB_DATA_FILES)
    file(CREATE_LINK ${mnist}/${name_${f}} ${folder}/${name_${f}} SYMBOLIC)
  endforeach()
endfunction()
# labels of the test set beside the training images: 10000 labels for 60000 images
make_data_folder(${WORK_DIR}/mismatched)
file(REMOVE ${WORK_DIR}/mismatched/${name_train-labels-idx1-ubyte})
string(REPLACE "t10k" "train" swapped ${name_t10k-labels-idx1-ubyte})
string(REPLACE "t10k" "train" swapped_re ${re_t10k-labels-idx1-ubyte})
file(CREATE_LINK ${mnist}/${name_t10k-labels-idx1-ubyte} ${WORK_DIR}/mismatched/${swapped} SYMBOLIC)
expect_failure("${swapped_re}: expected 60000 labels \\(one per image of [^)]*${re_train-images-idx3-ubyte}\\), got shape \\[10000\\]"
  --data ${WORK_DIR}/mismatched ${small} --output ${WORK_DIR}/out)
# the training images cut, in both forms whatever form the real ones have: a gzip stream cut
# after 100000 bytes, and the raw IDX file cut after 100000 bytes (gzip(1) converts)
make_data_folder(${WORK_DIR}/truncated_gz)
file(REMOVE ${WORK_DIR}/truncated_gz/${name_train-images-idx3-ubyte})
if(name_train-images-idx3-ubyte MATCHES "\\.gz$")
  execute_process(COMMAND head -c 100000 ${mnist}/${name_train-images-idx3-ubyte}
                  OUTPUT_FILE ${WORK_DIR}/truncated_gz/train-images-idx3-ubyte.gz)
else()
  execute_process(COMMAND gzip -1 -c ${mnist}/${name_train-images-idx3-ubyte} COMMAND head -c 100000
                  OUTPUT_FILE ${WORK_DIR}/truncated_gz/train-images-idx3-ubyte.gz)
endif()
expect_failure("truncated_gz/train-images-idx3-ubyte\\.gz: the gzip data is truncated \\(it ends at offset 100000"
  --data ${WORK_DIR}/truncated_gz ${small} --output ${WORK_DIR}/out)
make_data_folder(${WORK_DIR}/truncated_raw)
file(REMOVE ${WORK_DIR}/truncated_raw/${name_train-images-idx3-ubyte})
if(name_train-images-idx3-ubyte MATCHES "\\.gz$")
  execute_process(COMMAND gzip -d -c ${mnist}/${name_train-images-idx3-ubyte} COMMAND head -c 100000
                  OUTPUT_FILE ${WORK_DIR}/truncated_raw/train-images-idx3-ubyte)
else()
  execute_process(COMMAND head -c 100000 ${mnist}/${name_train-images-idx3-ubyte}
                  OUTPUT_FILE ${WORK_DIR}/truncated_raw/train-images-idx3-ubyte)
endif()
expect_failure("truncated_raw/train-images-idx3-ubyte: truncated IDX data: the header declares \\[60000, 28, 28\\] = 47040000 bytes from offset 16, but the data ends at offset 100000"
  --data ${WORK_DIR}/truncated_raw ${small} --output ${WORK_DIR}/out)
# a PNG under the name of the training images
make_data_folder(${WORK_DIR}/png)
file(REMOVE ${WORK_DIR}/png/${name_train-images-idx3-ubyte})
file(COPY_FILE ${CMAKE_CURRENT_LIST_DIR}/../docs/images/vae/samples_25.png ${WORK_DIR}/png/train-images-idx3-ubyte)
expect_failure("png/train-images-idx3-ubyte: not an IDX file: the magic number at offset 0 starts with 89 50, expected 00 00"
  --data ${WORK_DIR}/png ${small} --output ${WORK_DIR}/out)

# ---- an output folder that is a file ------------------------------------------------------
file(WRITE ${WORK_DIR}/a_file "x")
expect_failure("cannot create directories: .*\\[${WORK_DIR}/a_file\\]"
  --data ${mnist} ${small} --output ${WORK_DIR}/a_file)

# ---- sizes that do not fit the data -------------------------------------------------------
expect_failure("BatchSampler: 50 examples do not fill one batch of 100"
  --data ${mnist} --train-n 50 --test-n 100 --ll-particles 0 --no-progress --batch-size 100 --output ${WORK_DIR}/out)

# ---- checkpoints --------------------------------------------------------------------------
if(KIND STREQUAL "gmm")
  expect_failure("autoencoder_gmm: --resume is not supported: autoencoder_gmm keeps no checkpoint to resume"
    --data ${mnist} ${small} --resume --output ${WORK_DIR}/fresh)
  return()
endif()
expect_failure("--resume: no checkpoint at ${WORK_DIR}/fresh/checkpoint.npz"
  --data ${mnist} ${small} --resume --output ${WORK_DIR}/fresh)

if(KIND STREQUAL "vimco")
  expect_failure("--particles must be at least 2 for VIMCO \\(got 1\\)"
    --data ${mnist} ${small} --objective vimco --particles 1 --output ${WORK_DIR}/out)
  expect_failure("--objective: elbo not in \\{reinforce,vimco\\}" --objective elbo)
  # REINFORCE at learning rate 1 diverges with a finite bound (about -1.8e6 in epoch 1; it
  # once exited 0 without a word): stopped, naming the epoch and the first step's bound
  expect_failure("the training bound of epoch 1 is -[0-9.]+, far below the first step's -[0-9.]+: training diverged"
    --data ${mnist} --train-n 2000 --test-n 100 --ll-particles 0 --no-progress --batch-size 50 --lr 1 --epochs 2
    --output ${WORK_DIR}/diverging)
  return()
endif()
if(KIND STREQUAL "iwae")
  expect_failure("--stochastic-layers 2 is Burda et al.'s two-layer model: give --protocol burda too"
    --data ${mnist} ${small} --stochastic-layers 2 --output ${WORK_DIR}/out)
  expect_failure("--estimator dreg is a gradient of the importance-weighted bound: --objective vae takes sgvb"
    --data ${mnist} ${small} --objective vae --estimator dreg --output ${WORK_DIR}/out)
  expect_failure("--objective: elbo not in [{]iwae,vae[}]"
    --data ${mnist} ${small} --objective elbo --output ${WORK_DIR}/out)
  expect_failure("--ll-method ais moves one latent, z; this model has two stochastic layers: use --ll-method is"
    --data ${mnist} --train-n 200 --test-n 100 --epochs 1 --no-progress --protocol burda --stochastic-layers 2
    --ll-method ais --output ${WORK_DIR}/out)
  return()
endif()
if(KIND STREQUAL "family")
  expect_failure("split_train_validation: 200 validation images leave none of 200 for training"
    --data ${mnist} ${small} --validation-n 200 --output ${WORK_DIR}/out)
  return()
endif()

# KIND vae: a checkpoint of another model, a damaged one, one from another batch size
execute_process(COMMAND ${PROGRAM} --data ${mnist} ${small} --epochs 1 --output ${WORK_DIR}/trained
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the one-epoch run failed (${rc}):\n${out}${err}")
endif()
set(checkpoint ${WORK_DIR}/trained/checkpoint.npz)
# (the parameters are made at the first step, so the first that differs is named there)
expect_failure("parameter 'q/z_mean/weight': requested with shape \\[500, 8\\] but it exists with shape \\[500, 40\\]"
  --data ${mnist} ${small} --epochs 2 --resume --checkpoint ${checkpoint} --latent 8 --output ${WORK_DIR}/out)
expect_failure("checkpoint.npz was made with --batch-size 100, this run has 50 \\(resume with the same batch size\\)"
  --data ${mnist} ${slice} --epochs 2 --resume --checkpoint ${checkpoint} --batch-size 50 --output ${WORK_DIR}/out)
file(SIZE ${checkpoint} size)
math(EXPR half "${size} / 2")
execute_process(COMMAND head -c ${half} ${checkpoint} OUTPUT_FILE ${WORK_DIR}/cut.npz)
expect_failure("cut.npz: byte ${half}: truncated or not an npz archive"
  --data ${mnist} ${small} --epochs 2 --resume --checkpoint ${WORK_DIR}/cut.npz --output ${WORK_DIR}/out)
expect_failure("read ${WORK_DIR}: is a folder, not a file"
  --data ${mnist} ${small} --epochs 2 --resume --checkpoint ${WORK_DIR} --output ${WORK_DIR}/out)
