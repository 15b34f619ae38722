#pragma once
// vaelib's version (kept equal to the version in CMakeLists.txt by a test).

#define VAELIB_VERSION_MAJOR 0
#define VAELIB_VERSION_MINOR 1
#define VAELIB_VERSION_PATCH 0
#define VAELIB_VERSION_STRING "0.1.0"
