#include <catch2/catch.hpp>

#include <string>

#include "vaelib/version.hpp"

TEST_CASE("version: the header agrees with CMakeLists.txt", "[version]") {
  CHECK(std::string(VAELIB_VERSION_STRING) == VAELIB_CMAKE_VERSION);
  CHECK(std::to_string(VAELIB_VERSION_MAJOR) + "." + std::to_string(VAELIB_VERSION_MINOR) + "." +
            std::to_string(VAELIB_VERSION_PATCH) ==
        VAELIB_VERSION_STRING);
}
