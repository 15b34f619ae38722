# The packages the core target vaelib::vaelib needs, found the same way by our own build and by
# vaelibConfig.cmake in an install tree. Debian 12: libxtensor-dev, libxsimd-dev, xtl-dev,
# libopenblas-dev (see cmake/setup-debian.sh). The io component's zlib1g-dev and libpng-dev
# are looked for beside it: in CMakeLists.txt, and in vaelibConfig.cmake only when a
# consumer asks for the io component.

include(CMakeFindDependencyMacro)

# In vaelibConfig.cmake, find_dependency: it passes on the consumer's QUIET and REQUIRED, and a
# missing package makes find_package(vaelib) report vaelib not found with the reason. In
# vaelib's own build, find_package(REQUIRED).
macro(_vaelib_find_dependency name)
  if(_vaelib_in_package_config)
    find_dependency(${name} ${ARGN})
  else()
    find_package(${name} ${ARGN} REQUIRED)
  endif()
endmacro()

_vaelib_find_dependency(xtl)
_vaelib_find_dependency(xsimd)
_vaelib_find_dependency(xtensor)
_vaelib_find_dependency(OpenBLAS CONFIG)

# OpenBLAS's CMake package exports variables, not a target: wrap them in one.
if(NOT TARGET vaelib::openblas)
  add_library(vaelib::openblas INTERFACE IMPORTED)
  set_target_properties(vaelib::openblas PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${OpenBLAS_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${OpenBLAS_LIBRARIES}")
endif()
