#pragma once
// Option checks whose errors say what is expected: CLI11's PositiveNumber reports a bad value
// as "not in range 0.000000 to <DBL_MAX written out in 309 digits>".
//
// Every numeric option of the examples has one. Counts have an upper bound, so a negative
// number that wrapped round, or 20 digits, is refused instead of hanging or exhausting memory
// (issue 20). The bounds, generous for any run on MNIST-sized data:
//   epochs, patience, --save-freq, --vae-epochs, EM iterations   up to max_epochs (1,000,000)
//   image counts (--train-n, --test-n, --validation-n, ...)       up to max_images (100,000,000)
//   training particles (--particles)                              up to max_particles (10,000)
//   log-likelihood particles (--ll-particles, chunked)            up to max_ll_particles (1,000,000)
//   batch size, layer widths, latent dimensions, components        up to max_width (1,000,000)
//   --threads                                                      0 (OpenBLAS's default) up to max_threads()

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

namespace vaelib::examples {

inline constexpr std::uint64_t max_epochs = 1'000'000;
inline constexpr std::uint64_t max_images = 100'000'000;
inline constexpr std::uint64_t max_particles = 10'000;
inline constexpr std::uint64_t max_ll_particles = 1'000'000;
inline constexpr std::uint64_t max_width = 1'000'000;

/// The most OpenBLAS threads an example accepts: the machine's hardware threads (at least 1;
/// 64 when the standard library cannot tell). More only oversubscribes the cores.
inline std::uint64_t max_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 64 : n;
}

namespace detail {

/// `text` as a whole number without sign, or false (empty, a sign, a fraction, too long).
inline bool parse_whole(const std::string& text, std::uint64_t& value) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return false;
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (*end != '\0' || errno == ERANGE) return false;
  value = v;
  return true;
}

}  // namespace detail

/// A whole number in [low, high]: "expected a whole number of at least 1 and at most 10000,
/// got '99999999'". Shown as `name`.
inline CLI::Validator whole_number(std::uint64_t low, std::uint64_t high, const std::string& name) {
  return CLI::Validator(
      [low, high](std::string& text) -> std::string {
        std::uint64_t v = 0;
        if (!detail::parse_whole(text, v) || v < low || v > high) {
          return "expected a whole number of at least " + std::to_string(low) + " and at most " + std::to_string(high) +
                 ", got '" + text + "'";
        }
        return {};
      },
      name);
}

/// A count of at least 1 (epochs, batch size, layer widths, particles), at most `high`.
/// Shown as POSITIVE.
inline CLI::Validator at_least_one_up_to(std::uint64_t high) { return whole_number(1, high, "POSITIVE"); }

/// A count of 0 or more (0 usually meaning "all" or "off"), at most `high`. Shown as COUNT.
inline CLI::Validator zero_or_more_up_to(std::uint64_t high) { return whole_number(0, high, "COUNT"); }

/// A count of at least 1 with no bound but the type's (kept for callers outside the
/// examples' options). Shown as POSITIVE.
inline const CLI::Validator at_least_one(
    [](std::string& text) -> std::string {
      std::uint64_t v = 0;
      if (!detail::parse_whole(text, v) || v == 0) return "expected a whole number of at least 1, got '" + text + "'";
      return {};
    },
    "POSITIVE");

/// Any whole number from 0 to 2^64 - 1 (a seed). Shown as UINT.
inline const CLI::Validator any_whole_number = whole_number(0, UINT64_MAX, "UINT");

/// OpenBLAS threads: 0 (its default) up to max_threads(). Shown as THREADS.
inline CLI::Validator threads_count() { return whole_number(0, max_threads(), "THREADS"); }

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

/// Any finite number (a clamp). Shown as NUMBER.
inline const CLI::Validator finite_number(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !std::isfinite(v)) return "expected a finite number, got '" + text + "'";
      return {};
    },
    "NUMBER");

}  // namespace vaelib::examples
