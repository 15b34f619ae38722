#pragma once
// Gumbel: the type-I extreme-value distribution with location loc and scale > 0, density
// exp(-z - exp(-z)) / scale, z = (x - loc) / scale. Reparameterised. An infinite value, or one
// so far below loc that exp(-z) overflows, gives log_prob -inf; a NaN value NaN.

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
class Gumbel final : public detail::LocScaleDistribution<T> {
  using Base = detail::LocScaleDistribution<T>;
  using Base::m_loc;
  using Base::m_scale;

 public:
  /// Gumbel(loc, scale) for finite loc and scale > 0 finite (checked); batch_shape is the
  /// broadcast of both shapes.
  Gumbel(const Var<T>& loc, const Var<T>& scale, DistributionOptions options = {})
      : Base("Gumbel", loc, scale, options, Base::Loc::finite) {}

  /// E[x] = loc + scale gamma (Euler's constant)
  Var<T> mean() const override {
    return broadcast_to(m_loc + m_scale * static_cast<T>(std::numbers::egamma), this->batch_shape());
  }
  /// Var[x] = pi^2 scale^2 / 6
  Var<T> variance() const override {
    return broadcast_to(square(m_scale) * static_cast<T>(std::numbers::pi * std::numbers::pi / 6), this->batch_shape());
  }

 protected:
  /// log p(x) = -log scale - z - exp(-z)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_loc, detach_parameters),
                                       this->maybe_detached(m_scale, detach_parameters)};
    return detail::scalar_log_density("Gumbel.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], loc = a[1], scale = a[2];
      if (std::isinf(x)) return detail::outside_support<3>();
      const double z = (x - loc) / scale;
      const double e = std::exp(-z);
      const double value = -std::log(scale) - z - e;
      if (value == -std::numeric_limits<double>::infinity()) return detail::outside_support<3>();
      const double dz = e - 1;  // d log p / dz
      return detail::ScalarLogDensity<3>{value, {dz / scale, -dz / scale, -(1 + z * dz) / scale}};
    });
  }

  /// loc + scale g,  g = -log(-log u) ~ Gumbel(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> g = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = detail::standard_gumbel<T>(rng);
    });
    return m_loc + m_scale * g;
  }
};

}  // namespace vaelib
