#pragma once
// Sample statistics for distribution tests, written as plain loops (xtensor 0.24's reducers
// over axes of adaptors are unreliable here: xt::variance(adaptor, {0}) crashes).

#include <cstddef>

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

}  // namespace vaelib::testing
