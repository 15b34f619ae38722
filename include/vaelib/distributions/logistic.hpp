#pragma once
// Logistic: the logistic distribution with location loc and scale s > 0, whose CDF is
// sigmoid((x - loc) / s). Reparameterised (inverse CDF).

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/loc_scale.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Logistic final : public detail::LocScaleDistribution<T> {
  using Base = detail::LocScaleDistribution<T>;
  using Base::m_loc;
  using Base::m_scale;

 public:
  /// Logistic(loc, scale) for scale > 0 and finite (checked: an infinite scale is no
  /// distribution, and would make log_prob NaN); batch_shape is the broadcast of both shapes.
  Logistic(const Var<T>& loc, const Var<T>& scale, DistributionOptions options = {})
      : Base("Logistic", loc, scale, options, Base::Loc::any) {}

  /// E[x] = loc.
  Var<T> mean() const override { return broadcast_to(m_loc, this->batch_shape()); }
  /// Var[x] = pi^2 scale^2 / 3
  Var<T> variance() const override {
    return broadcast_to(square(m_scale) * static_cast<T>(std::numbers::pi * std::numbers::pi / 3), this->batch_shape());
  }

 protected:
  /// log p(x) = -z - log s - 2 softplus(-z),  z = (x - loc) / s
  /// (= log sigmoid(z) + log sigmoid(-z) - log s, stable for large |z|)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> loc = this->maybe_detached(m_loc, detach_parameters);
    const Var<T> s = this->maybe_detached(m_scale, detach_parameters);
    const Var<T> z = (given - loc) / s;
    return (-z - log(s)) - T(2) * softplus(-z);
  }

  /// x = loc + s (log u - log(1 - u)),  u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = detail::standard_logistic<T>(rng);
    });
    return m_loc + m_scale * e;
  }

  /// H = log s + 2
  Var<T> entropy_impl() const override { return broadcast_to(log(m_scale) + T(2), this->batch_shape()); }

};

}  // namespace vaelib
