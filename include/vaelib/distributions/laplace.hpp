#pragma once
// Laplace: the double-exponential distribution with location loc and scale b > 0, density
// exp(-|x - loc| / b) / (2 b). Reparameterised (inverse CDF).

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/loc_scale.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Laplace final : public detail::LocScaleDistribution<T> {
  using Base = detail::LocScaleDistribution<T>;
  using Base::m_loc;
  using Base::m_scale;

 public:
  /// Laplace(loc, scale) for scale > 0 and finite (checked: an infinite scale is no
  /// distribution, and would make log_prob NaN); batch_shape is the broadcast of both shapes.
  Laplace(const Var<T>& loc, const Var<T>& scale, DistributionOptions options = {})
      : Base("Laplace", loc, scale, options, Base::Loc::any) {}

  /// E[x] = loc.
  Var<T> mean() const override { return broadcast_to(m_loc, this->batch_shape()); }
  /// Var[x] = 2 scale^2
  Var<T> variance() const override { return broadcast_to(square(m_scale) * T(2), this->batch_shape()); }

 protected:
  /// log p(x) = -log(2 b) - |x - loc| / b
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> loc = this->maybe_detached(m_loc, detach_parameters);
    const Var<T> b = this->maybe_detached(m_scale, detach_parameters);
    return -log(T(2) * b) - abs(given - loc) / b;
  }

  /// x = loc + b e,  e = -sign(u - 1/2) log(1 - 2 |u - 1/2|),  u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = detail::standard_laplace<T>(rng);
    });
    return m_loc + m_scale * e;
  }

  /// H = 1 + log(2 b)
  Var<T> entropy_impl() const override {
    return broadcast_to(log(T(2) * m_scale) + T(1), this->batch_shape());
  }
};

}  // namespace vaelib
