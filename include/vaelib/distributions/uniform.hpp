#pragma once
// Uniform: the continuous uniform distribution on [low, high). Reparameterised: samples are
// differentiable in low and high.
//
// A sample low + (high - low) u with u just below 1 can round up to exactly high (in float,
// with probability about 2^-24 per draw for a wide interval), where log_prob is -inf.
//
// log_prob is -inf outside [low, high) and NaN for a NaN value (never silently -inf); it is
// computed in double, finite also when high - low overflows T.

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {

template <class T>
class Uniform final : public Distribution<T> {
 public:
  /// U(low, high) with low and high finite and low < high everywhere (checked after
  /// broadcasting); batch_shape is the broadcast of both shapes.
  Uniform(const Var<T>& low, const Var<T>& high, DistributionOptions options = {})
      : Distribution<T>(low.tape(), broadcast_parameter_shapes("Uniform", {low.shape(), high.shape()}), Shape{},
                        options),
        m_low(low),
        m_high(high) {
    low.tape().check_handle("Uniform", high);
    this->check_values(low, "low", "finite", [](T v) { return std::isfinite(v); });
    this->check_values(high, "high", "finite", [](T v) { return std::isfinite(v); });
    const auto low_value = low.value();
    const auto high_value = high.value();
    const auto lo = xt::broadcast(low_value, this->batch_shape());
    const auto hi = xt::broadcast(high_value, this->batch_shape());
    std::size_t i = 0;
    for (auto l = lo.cbegin(), h = hi.cbegin(); l != lo.cend(); ++l, ++h, ++i) {
      if (!(*l < *h)) {
        throw DomainError("Uniform: low must be less than high, got low = " + std::to_string(*l) + " and high = " +
                            std::to_string(*h) + " at flat index " + std::to_string(i) + " of batch_shape " +
                            to_string(this->batch_shape()));
      }
    }
  }

  std::string_view name() const override { return "Uniform"; }
  Support<T> support() const override { return Support<T>::interval(m_low, m_high); }
  bool is_reparameterized() const override { return true; }

  Var<T> low() const { return m_low; }
  Var<T> high() const { return m_high; }
  /// E[x] = (low + high) / 2.
  Var<T> mean() const override { return broadcast_to((m_low + m_high) * T(0.5), this->batch_shape()); }
  /// Var[x] = (high - low)^2 / 12, from the half-width (high - low itself may overflow)
  Var<T> variance() const override {
    return broadcast_to(square(m_high * T(0.5) - m_low * T(0.5)) / T(3), this->batch_shape());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "low") return m_low;
    if (parameter_name == "high") return m_high;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = -log(high - low) for low <= x < high, -inf elsewhere, NaN for a NaN x; in
  /// double, the width as twice the difference of the halves where it overflows
  /// (the indicator is a constant: no gradient flows to x; low and high get
  ///  d/dlow = 1 / (high - low), d/dhigh = -1 / (high - low) inside, 0 outside)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_low, detach_parameters),
                                       this->maybe_detached(m_high, detach_parameters)};
    return detail::scalar_log_density("Uniform.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], low = a[1], high = a[2];
      if (std::isnan(x)) return detail::ScalarLogDensity<3>{x, {}};
      if (!(low <= x && x < high)) return detail::outside_support<3>();
      const double half_width = high / 2 - low / 2;
      const double inverse_width = 0.5 / half_width;
      return detail::ScalarLogDensity<3>{-(std::log(half_width) + std::numbers::ln2), {0, inverse_width, -inverse_width}};
    });
  }

  /// x = low + (high - low) u,  u ~ U[0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> u = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      rng.fill_uniform(std::span<T>(data, size));
    });
    return m_low + (m_high - m_low) * u;
  }

  /// H = log(high - low) = log(high/2 - low/2) + log 2 (the halves do not overflow)
  Var<T> entropy_impl() const override {
    const Var<T> half_width = m_high * T(0.5) - m_low * T(0.5);
    return broadcast_to(log(half_width) + static_cast<T>(std::numbers::ln2), this->batch_shape());
  }

 private:
  Var<T> m_low;
  Var<T> m_high;
};

}  // namespace vaelib
