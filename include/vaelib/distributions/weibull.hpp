#pragma once
// Weibull: a positive variable with scale > 0 and concentration k > 0, density
// (k / scale) (x / scale)^(k-1) exp(-(x / scale)^k) on x >= 0 (k = 1 is the exponential).
// Reparameterised in both parameters (inverse CDF). A value below 0 or infinite gives
// log_prob -inf, a NaN value NaN. At x = 0 log_prob is the density's limit (+inf for k < 1,
// -log scale for k = 1, -inf for k > 1) and passes no gradient.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Weibull final : public Distribution<T> {
 public:
  /// Weibull(scale, concentration) for both > 0 and finite (checked); batch_shape is the
  /// broadcast of both shapes.
  Weibull(const Var<T>& scale, const Var<T>& concentration, DistributionOptions options = {})
      : Distribution<T>(scale.tape(), broadcast_parameter_shapes("Weibull", {scale.shape(), concentration.shape()}),
                        Shape{}, options),
        m_scale(scale),
        m_concentration(concentration) {
    scale.tape().check_handle("Weibull", concentration);
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(scale, "scale", "positive and finite", positive_finite);
    this->check_values(concentration, "concentration", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "Weibull"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  Var<T> scale() const { return m_scale; }
  Var<T> concentration() const { return m_concentration; }
  /// E[x] = scale Gamma(1 + 1/k)
  Var<T> mean() const override {
    return broadcast_to(m_scale * exp(lgamma(T(1) + T(1) / m_concentration)), this->batch_shape());
  }
  /// Var[x] = scale^2 (Gamma(1 + 2/k) - Gamma(1 + 1/k)^2), k the concentration, in double as
  /// scale^2 Gamma(1 + 1/k)^2 expm1(lgamma(1 + 2/k) - 2 lgamma(1 + 1/k)) (the difference
  /// cancels at large k):
  ///   d/dscale = 2 Var / scale,
  ///   d/dk = (2 scale^2 / k^2) (Gamma(1 + 1/k)^2 digamma(1 + 1/k) - Gamma(1 + 2/k) digamma(1 + 2/k))
  Var<T> variance() const override {
    const std::array<Var<T>, 2> inputs{m_scale, m_concentration};
    return detail::scalar_log_density("Weibull.variance", inputs, [](const std::array<double, 2>& a) {
      const double scale = a[0], k = a[1];
      const double g1 = std::lgamma(1 + 1 / k), g2 = std::lgamma(1 + 2 / k);
      const double first_squared = scale * scale * std::exp(2 * g1);  // (scale Gamma(1 + 1/k))^2
      const double second = scale * scale * std::exp(g2);             // scale^2 Gamma(1 + 2/k)
      const double v = first_squared * std::expm1(g2 - 2 * g1);
      const double d_k = 2 / (k * k) * (first_squared * detail::digamma(1 + 1 / k) - second * detail::digamma(1 + 2 / k));
      return detail::ScalarLogDensity<2>{v, {2 * v / scale, d_k}};
    });
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "scale") return m_scale;
    if (parameter_name == "concentration") return m_concentration;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = log k - log scale + (k - 1) log z - z^k,  z = x / scale,  x >= 0
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_scale, detach_parameters),
                                       this->maybe_detached(m_concentration, detach_parameters)};
    return detail::scalar_log_density("Weibull.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], scale = a[1], k = a[2];
      if (x < 0 || std::isinf(x)) return detail::outside_support<3>();
      if (x == 0) {  // the limit; (k - 1) log 0 would be 0 * -inf for k = 1
        const double limit = k < 1 ? std::numeric_limits<double>::infinity()
                             : k > 1 ? -std::numeric_limits<double>::infinity()
                                     : -std::log(scale);
        return detail::ScalarLogDensity<3>{limit, {}};
      }
      const double log_z = std::log(x / scale);
      const double z_k = std::exp(k * log_z);
      const double value = std::log(k) - std::log(scale) + (k - 1) * log_z - z_k;
      return detail::ScalarLogDensity<3>{
          value, {((k - 1) - k * z_k) / x, k * (z_k - 1) / scale, 1 / k + log_z - z_k * log_z}};
    });
  }

  /// scale e^(1/k),  e = -log u ~ Exponential(1),  u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> log_e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<T>(std::log(-std::log(detail::open_uniform<double>(rng))));
    });
    return m_scale * exp(log_e / m_concentration);
  }

 private:
  Var<T> m_scale;
  Var<T> m_concentration;
};

}  // namespace vaelib
