# The packages vaelib's headers need, found the same way by our own build and by
# vaelibConfig.cmake in an install tree. Debian 12: libxtensor-dev, libxsimd-dev, xtl-dev,
# libopenblas-dev, zlib1g-dev, libpng-dev (see cmake/setup-debian.sh).

find_package(xtl REQUIRED)
find_package(xsimd REQUIRED)
find_package(xtensor REQUIRED)
find_package(OpenBLAS CONFIG REQUIRED)
find_package(ZLIB REQUIRED)  # CRC-32 of checkpoints, gzip IDX files
find_package(PNG REQUIRED)   # image grids (libpng-dev)

# OpenBLAS's CMake package exports variables, not a target: wrap them in one.
if(NOT TARGET vaelib::openblas)
  add_library(vaelib::openblas INTERFACE IMPORTED)
  set_target_properties(vaelib::openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()
