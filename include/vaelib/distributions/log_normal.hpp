#pragma once
// LogNormal: exp(y) for y ~ N(loc, scale^2), scale > 0: density
// exp(-(log x - loc)^2 / (2 scale^2)) / (x scale sqrt(2 pi)) on x > 0. Reparameterised. A value
// <= 0 or infinite gives log_prob -inf, a NaN value NaN.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/loc_scale.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class LogNormal final : public detail::LocScaleDistribution<T> {
  using Base = detail::LocScaleDistribution<T>;
  using Base::m_loc;
  using Base::m_scale;

 public:
  /// LogNormal(loc, scale), the mean and standard deviation of log x: loc finite, scale > 0
  /// finite (checked); batch_shape is the broadcast of both shapes.
  LogNormal(const Var<T>& loc, const Var<T>& scale, DistributionOptions options = {})
      : Base("LogNormal", loc, scale, options, Base::Loc::finite) {}

  Support<T> support() const override { return Support<T>::positive(); }

  /// E[x] = exp(loc + scale^2 / 2)
  Var<T> mean() const override { return broadcast_to(exp(m_loc + T(0.5) * square(m_scale)), this->batch_shape()); }
  /// Var[x] = expm1(scale^2) exp(2 loc + scale^2), in double (exp(scale^2) - 1 would lose
  /// every digit at small scale in float):
  ///   d/dloc = 2 Var,  d/dscale = 2 scale exp(2 loc + scale^2) (2 expm1(scale^2) + 1)
  Var<T> variance() const override {
    const std::array<Var<T>, 2> inputs{m_loc, m_scale};
    return detail::scalar_log_density("LogNormal.variance", inputs, [](const std::array<double, 2>& a) {
      const double s2 = a[1] * a[1];
      const double growth = std::exp(2 * a[0] + s2);
      const double v = std::expm1(s2) * growth;
      return detail::ScalarLogDensity<2>{v, {2 * v, 2 * a[1] * growth * (2 * std::expm1(s2) + 1)}};
    });
  }

 protected:
  /// log p(x) = -log x - log(2 pi) / 2 - log scale - u^2 / 2,  u = (log x - loc) / scale,  x > 0
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_loc, detach_parameters),
                                       this->maybe_detached(m_scale, detach_parameters)};
    return detail::scalar_log_density("LogNormal.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], loc = a[1], s = a[2];
      if (x <= 0 || std::isinf(x)) return detail::outside_support<3>();
      const double log_x = std::log(x);
      const double u = (log_x - loc) / s;
      const double value = -log_x - 0.5 * std::log(2 * std::numbers::pi) - std::log(s) - 0.5 * u * u;
      return detail::ScalarLogDensity<3>{value, {-(1 + u / s) / x, u / s, (u * u - 1) / s}};
    });
  }

  /// exp(loc + scale e),  e ~ N(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      rng.fill_normal(std::span<T>(data, size));
    });
    return exp(m_loc + m_scale * e);
  }
};

}  // namespace vaelib
