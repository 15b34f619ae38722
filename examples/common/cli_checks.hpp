#pragma once
// Option checks whose errors say what is expected: CLI11's PositiveNumber reports a bad value
// as "not in range 0.000000 to <DBL_MAX written out in 309 digits>".

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace vaelib::examples {

/// A count of at least 1 (epochs, batch size, layer widths, particles). Shown as POSITIVE.
inline const CLI::Validator at_least_one(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      errno = 0;
      const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || text.find('-') != std::string::npos || errno == ERANGE || v == 0) {
        return "expected a whole number of at least 1, got '" + text + "'";
      }
      return {};
    },
    "POSITIVE");

/// A finite number above 0 (a learning rate). Shown as POSITIVE.
inline const CLI::Validator above_zero(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v)) {
        return "expected a number above 0, got '" + text + "'";
      }
      return {};
    },
    "POSITIVE");

}  // namespace vaelib::examples
