#pragma once
// Pareto: a power-law tail above scale > 0 with index alpha > 0, density
// alpha scale^alpha / x^(alpha+1) on x >= scale. Reparameterised (inverse CDF). A value below
// scale or infinite gives log_prob -inf, a NaN value NaN. A draw beyond T's range (tiny alpha)
// is +inf.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Pareto final : public Distribution<T> {
 public:
  /// Pareto(scale, alpha) for both > 0 and finite (checked); batch_shape is the broadcast of
  /// both shapes.
  Pareto(const Var<T>& scale, const Var<T>& alpha, DistributionOptions options = {})
      : Distribution<T>(scale.tape(), broadcast_parameter_shapes("Pareto", {scale.shape(), alpha.shape()}), Shape{},
                        options),
        m_scale(scale),
        m_alpha(alpha) {
    scale.tape().check_handle("Pareto", alpha);
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(scale, "scale", "positive and finite", positive_finite);
    this->check_values(alpha, "alpha", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "Pareto"; }
  Support<T> support() const override { return Support<T>::greater_than(m_scale); }
  bool is_reparameterized() const override { return true; }

  Var<T> scale() const { return m_scale; }
  Var<T> alpha() const { return m_alpha; }
  /// E[x] = alpha scale / (alpha - 1) for alpha > 1, +inf otherwise
  Var<T> mean() const override {
    const Var<T> finite = this->mask(m_alpha, [](T v) { return v > T(1); });
    const Var<T> alpha = where(finite, m_alpha, this->tape().constant(T(2)));  // no 1 / 0 in the unused branch
    const Var<T> m = where(finite, alpha * m_scale / (alpha - T(1)),
                           this->tape().constant(std::numeric_limits<T>::infinity()));
    return broadcast_to(m, this->batch_shape());
  }
  /// Var[x] = scale^2 alpha / ((alpha - 1)^2 (alpha - 2)) for alpha > 2, +inf otherwise
  Var<T> variance() const override {
    const Var<T> finite = this->mask(m_alpha, [](T v) { return v > T(2); });
    const Var<T> alpha = where(finite, m_alpha, this->tape().constant(T(3)));  // no 1 / 0 in the unused branch
    const Var<T> v = where(finite, square(m_scale / (alpha - T(1))) * (alpha / (alpha - T(2))),
                           this->tape().constant(std::numeric_limits<T>::infinity()));
    return broadcast_to(v, this->batch_shape());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "scale") return m_scale;
    if (parameter_name == "alpha") return m_alpha;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = log alpha + alpha log scale - (alpha + 1) log x,  x >= scale
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_scale, detach_parameters),
                                       this->maybe_detached(m_alpha, detach_parameters)};
    return detail::scalar_log_density("Pareto.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], scale = a[1], alpha = a[2];
      if (x < scale || std::isinf(x)) return detail::outside_support<3>();
      const double log_ratio = std::log(scale) - std::log(x);  // <= 0
      const double value = std::log(alpha) + alpha * log_ratio - std::log(x);
      return detail::ScalarLogDensity<3>{value, {-(alpha + 1) / x, alpha / scale, 1 / alpha + log_ratio}};
    });
  }

  /// scale exp(e / alpha),  e = -log u ~ Exponential(1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = -std::log(detail::open_uniform<T>(rng));
    });
    return m_scale * exp(e / m_alpha);
  }

 private:
  Var<T> m_scale;
  Var<T> m_alpha;
};

}  // namespace vaelib
