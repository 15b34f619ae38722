#pragma once
// HalfCauchy: |c| for c ~ Cauchy(0, scale), scale > 0: density 2 / (pi scale (1 + (x/scale)^2))
// on x >= 0 (a common prior for scale parameters). Its mean is +inf. Reparameterised (inverse
// CDF). A value below 0 or infinite gives log_prob -inf, a NaN value NaN.

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/noise.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class HalfCauchy final : public Distribution<T> {
 public:
  /// HalfCauchy(scale) for scale > 0 finite (checked); batch_shape = scale.shape.
  explicit HalfCauchy(const Var<T>& scale, DistributionOptions options = {})
      : Distribution<T>(scale.tape(), scale.shape(), Shape{}, options), m_scale(scale) {
    this->check_values(scale, "scale", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "HalfCauchy"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  Var<T> scale() const { return m_scale; }
  /// E[x] = +inf (the tail is too heavy for a finite mean).
  Var<T> mean() const override { return this->tape().full(this->batch_shape(), std::numeric_limits<T>::infinity()); }
  /// Var[x] = +inf (the second moment diverges)
  Var<T> variance() const override {
    return this->tape().full(this->batch_shape(), std::numeric_limits<T>::infinity());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "scale") return m_scale;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = log 2 - log pi - log scale - log1p((x / scale)^2),  x >= 0
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 2> inputs{given, this->maybe_detached(m_scale, detach_parameters)};
    return detail::scalar_log_density("HalfCauchy.log_prob", inputs, [](const std::array<double, 2>& a) {
      const double x = a[0], scale = a[1];
      if (x < 0 || std::isinf(x)) return detail::outside_support<2>();
      const double z = x / scale;
      const double dz = z == 0 ? 0.0 : -2 / (z + 1 / z);  // -2z / (1 + z^2)
      const double w = 1 / (1 + 1 / (z * z));             // z^2 / (1 + z^2)
      const double value = std::log(2 / std::numbers::pi) - std::log(scale) - std::log1p(z * z);
      return detail::ScalarLogDensity<2>{value, {dz / scale, (2 * w - 1) / scale}};
    });
  }

  /// scale tan(pi u / 2),  u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> t = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i)
        data[i] = static_cast<T>(std::tan(std::numbers::pi / 2 * detail::open_uniform<double>(rng)));
    });
    return m_scale * t;
  }

 private:
  Var<T> m_scale;
};

}  // namespace vaelib
