# Where the example checks find a dataset: the one place the cmake scripts search, at test
# time (so data fetched after configuring is found), in the order of cmake/get-data.sh:
#   $VAELIB_DATA/<name>, <source>/data/<name>, <source>/../shared/data/<name> (optional: a
#   development machine's shared copy), and for fashion-mnist /usr/share/datasets/fashion-mnist;
# each holding the four IDX files, raw or .gz. Missing data is an error listing every place
# searched, never a skip.
#   include(${CMAKE_CURRENT_LIST_DIR}/find_data.cmake)
#   vaelib_find_data(<var> <name>)             <var> = the first folder holding <name>
#   vaelib_data_file(<var> <folder> <file>)    <var> = <folder>/<file> or its .gz (raw first), or ""

get_filename_component(VAELIB_DATA_SOURCE_DIR "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(VAELIB_DATA_FILES train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

function(vaelib_data_file var folder file)
  set(found "")
  foreach(candidate ${folder}/${file} ${folder}/${file}.gz)
    if(EXISTS ${candidate} AND NOT IS_DIRECTORY ${candidate})
      set(found ${candidate})
      break()
    endif()
  endforeach()
  set(${var} "${found}" PARENT_SCOPE)
endfunction()

function(vaelib_find_data var name)
  set(places "")
  set(tried "")
  if(DEFINED ENV{VAELIB_DATA} AND NOT "$ENV{VAELIB_DATA}" STREQUAL "")
    list(APPEND places $ENV{VAELIB_DATA}/${name})
  else()
    string(APPEND tried "\n  \$VAELIB_DATA/${name} (VAELIB_DATA is not set)")
  endif()
  list(APPEND places ${VAELIB_DATA_SOURCE_DIR}/data/${name} ${VAELIB_DATA_SOURCE_DIR}/../shared/data/${name})
  if(name STREQUAL "fashion-mnist")
    list(APPEND places /usr/share/datasets/fashion-mnist)
  endif()
  foreach(folder IN LISTS places)
    set(complete TRUE)
    foreach(file IN LISTS VAELIB_DATA_FILES)
      vaelib_data_file(path ${folder} ${file})
      if(path STREQUAL "")
        set(complete FALSE)
        break()
      endif()
    endforeach()
    if(complete)
      message(STATUS "${name}: ${folder}")
      set(${var} ${folder} PARENT_SCOPE)
      return()
    endif()
    string(APPEND tried "\n  ${folder}")
  endforeach()
  message(FATAL_ERROR "${name} (the four IDX files, raw or .gz) is in none of:${tried}\n"
    "run `bash ${VAELIB_DATA_SOURCE_DIR}/cmake/get-data.sh` to fetch it (or set VAELIB_DATA to a folder holding ${name}/)")
endfunction()
