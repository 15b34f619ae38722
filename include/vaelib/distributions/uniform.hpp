#pragma once
// Uniform: the continuous uniform distribution on [low, high). Reparameterised: samples are
// differentiable in low and high.
//
// A sample low + (high - low) u with u just below 1 can round up to exactly high (in float,
// with probability about 2^-24 per draw for a wide interval), where log_prob is -inf.

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "vaelib/autodiff/detail/elementwise.hpp"
#include "vaelib/autodiff/ops.hpp"
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
        throw ArgumentError("Uniform: low must be less than high, got low = " + std::to_string(*l) + " and high = " +
                            std::to_string(*h) + " at flat index " + std::to_string(i) + " of batch_shape " +
                            to_string(this->batch_shape()));
      }
    }
  }

  std::string_view name() const override { return "Uniform"; }
  bool is_reparameterized() const override { return true; }

  Var<T> low() const { return m_low; }
  Var<T> high() const { return m_high; }
  /// E[x] = (low + high) / 2.
  Var<T> mean() const override { return broadcast_to((m_low + m_high) * T(0.5), this->batch_shape()); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "low") return m_low;
    if (parameter_name == "high") return m_high;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = -log(high - low) for low <= x < high, -inf elsewhere
  /// (the indicator is a constant: no gradient flows to x; low and high get
  ///  d/dlow = 1 / (high - low), d/dhigh = -1 / (high - low) inside, 0 outside)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const Var<T> lo = this->maybe_detached(m_low, detach_parameters);
    const Var<T> hi = this->maybe_detached(m_high, detach_parameters);
    const Shape out_shape = broadcast_shapes("Uniform.log_prob", given.shape(), this->batch_shape());
    const Var<T> inside = this->noise(out_shape, [&](T* data, std::size_t) {
      const auto x = detail::shaped(given.data(), given.shape());
      const auto l = detail::shaped(m_low.data(), m_low.shape());
      const auto h = detail::shaped(m_high.data(), m_high.shape());
      xt::noalias(detail::shaped(data, out_shape)) = xt::where(x >= l && x < h, T(1), T(0));
    });
    const Var<T> minus_inf = this->tape().constant(-std::numeric_limits<T>::infinity());
    return where(inside, -log(hi - lo), minus_inf);
  }

  /// x = low + (high - low) u,  u ~ U[0, 1)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Var<T> u = this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      rng.fill_uniform(std::span<T>(data, size));
    });
    return m_low + (m_high - m_low) * u;
  }

  /// H = log(high - low)
  Var<T> entropy_impl() const override { return broadcast_to(log(m_high - m_low), this->batch_shape()); }

 private:
  Var<T> m_low;
  Var<T> m_high;
};

}  // namespace vaelib
