#pragma once
// Exponential: a waiting time with rate > 0, density rate exp(-rate x) on x >= 0 (mean
// 1 / rate). Reparameterised (inverse CDF). A value below 0 or infinite gives log_prob -inf,
// a NaN value NaN.

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
class Exponential final : public Distribution<T> {
 public:
  /// Exponential(rate) for rate > 0 finite (checked); batch_shape = rate.shape.
  explicit Exponential(const Var<T>& rate, DistributionOptions options = {})
      : Distribution<T>(rate.tape(), rate.shape(), Shape{}, options), m_rate(rate) {
    this->check_values(rate, "rate", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
  }

  std::string_view name() const override { return "Exponential"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  Var<T> rate() const { return m_rate; }
  /// E[x] = 1 / rate
  Var<T> mean() const override { return broadcast_to(T(1) / m_rate, this->batch_shape()); }
  /// Var[x] = 1 / rate^2
  Var<T> variance() const override { return broadcast_to(square(T(1) / m_rate), this->batch_shape()); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "rate") return m_rate;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = log rate - rate x,  x >= 0
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 2> inputs{given, this->maybe_detached(m_rate, detach_parameters)};
    return detail::scalar_log_density("Exponential.log_prob", inputs, [](const std::array<double, 2>& a) {
      const double x = a[0], rate = a[1];
      if (x < 0 || std::isinf(x)) return detail::outside_support<2>();
      return detail::ScalarLogDensity<2>{std::log(rate) - rate * x, {-rate, 1 / rate - x}};
    });
  }

  /// e / rate,  e = -log u ~ Exponential(1),  u ~ U(0, 1)  (inverse CDF)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> e = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) data[i] = -std::log(detail::open_uniform<T>(rng));
    });
    return e / m_rate;
  }

 private:
  Var<T> m_rate;
};

}  // namespace vaelib
