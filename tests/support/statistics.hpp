#pragma once
// Sample statistics for distribution tests (moments, and a within-n-standard-errors check), written as plain loops (xtensor 0.24's reducers
// over axes of adaptors are unreliable here: xt::variance(adaptor, {0}) crashes).

#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

#include "vaelib/vae.hpp"

namespace vaelib::testing {

struct Moments {
  xt::xarray<double> mean;
  xt::xarray<double> variance;  // unbiased
};

/// Per-position mean and variance over the leading axis of `samples` ([n, ...]).
template <class A>
Moments moments_over_first_axis(const A& samples) {
  const std::size_t n = samples.shape()[0];
  const std::size_t width = samples.size() / n;
  Shape rest(samples.shape().begin() + 1, samples.shape().end());
  Moments m{xt::zeros<double>(rest), xt::zeros<double>(rest)};
  const auto* data = samples.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < width; ++j) m.mean.data()[j] += static_cast<double>(data[i * width + j]);
  for (std::size_t j = 0; j < width; ++j) m.mean.data()[j] /= static_cast<double>(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < width; ++j) {
      const double d = static_cast<double>(data[i * width + j]) - m.mean.data()[j];
      m.variance.data()[j] += d * d;
    }
  for (std::size_t j = 0; j < width; ++j) m.variance.data()[j] /= static_cast<double>(n - 1);
  return m;
}

/// Asserts that the sample mean and (unbiased) sample variance of `draws` are within
/// `n_se` standard errors of `mean` and `variance`. The standard errors are sqrt(var / n)
/// for the mean and sqrt((mu4 - var^2) / n) for the variance, mu4 the fourth central moment.
inline void require_sample_moments(const std::vector<double>& draws, double mean, double variance,
                                   double fourth_central_moment, double n_se = 4.0) {
  const auto n = static_cast<double>(draws.size());
  REQUIRE(draws.size() > 1);
  double m = 0;
  for (double x : draws) m += x;
  m /= n;
  double v = 0;
  for (double x : draws) v += (x - m) * (x - m);
  v /= n - 1;
  const double se_mean = std::sqrt(variance / n);
  const double se_variance = std::sqrt((fourth_central_moment - variance * variance) / n);
  INFO("sample mean " << m << " (true " << mean << ", standard error " << se_mean << "); sample variance " << v
                      << " (true " << variance << ", standard error " << se_variance << ")");
  CHECK(std::abs(m - mean) <= n_se * se_mean);
  CHECK(std::abs(v - variance) <= n_se * se_variance);
}

}  // namespace vaelib::testing
