#pragma once
// HalfNormal: |e| for e ~ N(0, std^2), std > 0: density sqrt(2 / pi) / std exp(-x^2 / (2 std^2))
// on x >= 0. Reparameterised. A value below 0 or infinite gives log_prob -inf, a NaN value NaN.

#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class HalfNormal final : public Distribution<T> {
 public:
  /// HalfNormal(std) for std > 0 finite (checked); batch_shape = std.shape.
  explicit HalfNormal(const Var<T>& std, DistributionOptions options = {})
      : Distribution<T>(std.tape(), std.shape(), Shape{}, options), m_std(std) {
    this->check_values(std, "std", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "HalfNormal"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  Var<T> std() const { return m_std; }
  /// E[x] = std sqrt(2 / pi)
  Var<T> mean() const override {
    return broadcast_to(m_std * static_cast<T>(std::sqrt(2 / std::numbers::pi)), this->batch_shape());
  }
  /// Var[x] = std^2 (1 - 2 / pi)
  Var<T> variance() const override {
    return broadcast_to(square(m_std) * static_cast<T>(1 - 2 / std::numbers::pi), this->batch_shape());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "std") return m_std;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = log(2 / pi) / 2 - log std - (x / std)^2 / 2,  x >= 0
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 2> inputs{given, this->maybe_detached(m_std, detach_parameters)};
    return detail::scalar_log_density("HalfNormal.log_prob", inputs, [](const std::array<double, 2>& a) {
      const double x = a[0], s = a[1];
      if (x < 0 || std::isinf(x)) return detail::outside_support<2>();
      const double z = x / s;
      const double value = 0.5 * std::log(2 / std::numbers::pi) - std::log(s) - 0.5 * z * z;
      return detail::ScalarLogDensity<2>{value, {-z / s, (z * z - 1) / s}};
    });
  }

  /// std |e|,  e ~ N(0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      rng.fill_normal(std::span<T>(data, size));
      for (std::size_t i = 0; i < size; ++i) data[i] = std::abs(data[i]);
    });
    return m_std * e;
  }

 private:
  Var<T> m_std;
};

}  // namespace vaelib
