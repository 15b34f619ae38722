#pragma once
// Checks shared by the tests of the analytic KL pairs (tests/distributions/kl/*.test.cpp):
// the analytic value against a Monte Carlo estimate, and the mpmath reference loop.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "reference/kl_reference.hpp"
#include "support/gradients.hpp"
#include "support/statistics.hpp"

namespace vaelib::testing {

/// kl_divergence(p, q) against the mean of p.log_prob(z) - q.log_prob(z) over n draws z ~ p,
/// per batch element: within 4.5 standard errors (the draws are seeded, so the check is
/// deterministic; 4.5 leaves room for the number of elements checked).
template <class P, class Q>
void require_kl_matches_monte_carlo(const P& p, const Q& q, std::size_t n, std::uint64_t seed) {
  const Var<double> kl = kl_divergence<double>(p, q);
  Rng rng(seed);
  const Var<double> z = p.sample(rng, n);
  const xt::xarray<double> diff = p.log_prob(z).value() - q.log_prob(z).value();
  const Moments moments = moments_over_first_axis(diff);
  REQUIRE(moments.mean.size() == kl.size());
  for (std::size_t j = 0; j < kl.size(); ++j) {
    const double se = std::sqrt(moments.variance.data()[j] / static_cast<double>(n));
    INFO("batch element " << j << ": analytic " << kl.data()[j] << ", Monte Carlo " << moments.mean.data()[j] << " +- "
                          << se);
    CHECK(std::abs(moments.mean.data()[j] - kl.data()[j]) <= 4.5 * se + 1e-12);
  }
}

/// A column [n, 1] of the given values (a braced {{a}, {b}} is ambiguous to xtensor).
template <class T = double>
xt::xarray<T> kl_column(std::initializer_list<T> values) {
  xt::xarray<T> a = xt::xarray<T>(xt::adapt(std::vector<T>(values)));
  a.reshape({values.size(), std::size_t{1}});
  return a;
}

/// The flat values of a Var, as doubles.
template <class T>
std::vector<double> kl_values_of(const Var<T>& v) {
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<double>(v.data()[i]);
  return out;
}

}  // namespace vaelib::testing
