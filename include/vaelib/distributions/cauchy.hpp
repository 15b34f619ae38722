#pragma once
// Cauchy: the Cauchy (Lorentz) distribution with location loc and scale > 0, density
// 1 / (pi scale (1 + z^2)), z = (x - loc) / scale. It has no mean. Reparameterised (inverse
// CDF). An infinite value gives log_prob -inf, a NaN value NaN.

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/loc_scale.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Cauchy final : public detail::LocScaleDistribution<T> {
  using Base = detail::LocScaleDistribution<T>;
  using Base::m_loc;
  using Base::m_scale;

 public:
  /// Cauchy(loc, scale) for finite loc and scale > 0 finite (checked); batch_shape is the
  /// broadcast of both shapes.
  Cauchy(const Var<T>& loc, const Var<T>& scale, DistributionOptions options = {})
      : Base("Cauchy", loc, scale, options, Base::Loc::finite) {}

  /// The Cauchy distribution has no mean: ArgumentError.
  Var<T> mean() const override { throw ArgumentError("Cauchy: the mean is undefined (the tails are too heavy)"); }
  Var<T> variance() const override {
    throw ArgumentError("Cauchy: the variance is undefined (the tails are too heavy)");
  }

 protected:
  /// log p(x) = -log pi - log scale - log1p(z^2)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_loc, detach_parameters),
                                       this->maybe_detached(m_scale, detach_parameters)};
    return detail::scalar_log_density("Cauchy.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], loc = a[1], scale = a[2];
      if (std::isinf(x)) return detail::outside_support<3>();
      const double z = (x - loc) / scale;
      const double dz = z == 0 ? 0.0 : -2 / (z + 1 / z);  // -2z / (1 + z^2), also where z^2 overflows
      const double w = 1 / (1 + 1 / (z * z));             // z^2 / (1 + z^2)
      const double value = -std::log(std::numbers::pi) - std::log(scale) - std::log1p(z * z);
      return detail::ScalarLogDensity<3>{value, {dz / scale, -dz / scale, (2 * w - 1) / scale}};
    });
  }

  /// loc + scale tan(pi (u - 1/2)),  u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> t = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<T>(std::tan(std::numbers::pi * (detail::open_uniform<double>(rng) - 0.5)));
    });
    return m_loc + m_scale * t;
  }
};

}  // namespace vaelib
