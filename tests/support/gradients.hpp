#pragma once
// Helpers shared by the op tests: seeded random inputs and a gradient assertion.

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <vector>

#include "vaelib/vae.hpp"

namespace vaelib::testing {

/// Uniform values in [lo, hi), the same for the same seed.
inline xt::xarray<double> random_array(const Shape& shape, double lo = -2.0, double hi = 2.0, std::uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  xt::xarray<double> a = xt::empty<double>(shape);
  for (double& v : a) v = u(rng);
  return a;
}

/// Asserts that the tape's gradient of f matches central finite differences.
inline void require_gradient(const GradCheckFunction& f, std::vector<xt::xarray<double>> inputs,
                             GradCheckOptions options = {}) {
  const GradCheckResult r = check_gradient(f, std::move(inputs), options);
  INFO(r.message);
  REQUIRE(r.checked > 0);
  REQUIRE(r.ok);
}

/// Asserts that two arrays have the same shape and close values.
template <class A, class B>
void require_close(const A& actual, const B& expected, double tolerance = 1e-12) {
  REQUIRE(std::vector<std::size_t>(actual.shape().begin(), actual.shape().end()) ==
          std::vector<std::size_t>(expected.shape().begin(), expected.shape().end()));
  INFO("actual:\n" << actual << "\nexpected:\n" << expected);
  REQUIRE(xt::allclose(actual, expected, tolerance, tolerance));
}

using Vars = std::vector<Var<double>>;

}  // namespace vaelib::testing
