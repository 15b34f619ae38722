#pragma once
// Geometric: the number k in {0, 1, 2, ...} of failures before the first success of Bernoulli
// trials with success probability p: P(k) = (1 - p)^k p. Parameterised by the logits
// l = log(p / (1 - p)) (log P(k) = -k softplus(l) - softplus(-l), stable for any finite l) or
// by p in (0, 1). Counts are stored as T values 0, 1, 2, ... Not reparameterised. A value that
// is negative, not a whole number or infinite gives log_prob -inf, a NaN value NaN.

#include <algorithm>
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
class Geometric final : public Distribution<T> {
 public:
  enum class Parameter { logits, probs };

  /// Geometric(sigmoid(logits)) for finite logits (checked); batch_shape = logits.shape.
  explicit Geometric(const Var<T>& logits, DistributionOptions options = {})
      : Geometric(logits, Parameter::logits, options) {}
  /// The same as Geometric(logits, options).
  static Geometric with_logits(const Var<T>& logits, DistributionOptions options = {}) {
    return Geometric(logits, Parameter::logits, options);
  }
  /// Geometric(probs) for probs in the open interval (0, 1) (checked).
  static Geometric with_probs(const Var<T>& probs, DistributionOptions options = {}) {
    return Geometric(probs, Parameter::probs, options);
  }

  Geometric(const Var<T>& logits_or_probs, Parameter kind, DistributionOptions options = {})
      : Distribution<T>(logits_or_probs.tape(), logits_or_probs.shape(), Shape{}, options),
        m_parameter(logits_or_probs),
        m_kind(kind) {
    if (kind == Parameter::logits)
      this->check_values(m_parameter, "logits", "finite", [](T v) { return std::isfinite(v); });
    else
      this->check_values(m_parameter, "probs", "in the open interval (0, 1)", [](T v) { return v > T(0) && v < T(1); });
  }

  std::string_view name() const override { return "Geometric"; }
  Support<T> support() const override { return Support<T>::nonnegative_integer(); }
  bool is_reparameterized() const override { return false; }

  /// The logits (computed from probs when that is the parameter).
  Var<T> logits() const { return m_kind == Parameter::logits ? m_parameter : log(m_parameter) - log1p(-m_parameter); }
  /// The success probability (computed from the logits when they are the parameter).
  Var<T> probs() const { return m_kind == Parameter::probs ? m_parameter : sigmoid(m_parameter); }
  /// E[k] = (1 - p) / p = exp(-logits)
  Var<T> mean() const override {
    return m_kind == Parameter::logits ? exp(-m_parameter) : (T(1) - m_parameter) / m_parameter;
  }
  /// Var[k] = (1 - p) / p^2 = exp(-logits) / sigmoid(logits)
  Var<T> variance() const override {
    return m_kind == Parameter::logits ? exp(-m_parameter) / sigmoid(m_parameter)
                                       : (T(1) - m_parameter) / square(m_parameter);
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "logits") return logits();
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log P(k) = k log(1 - p) + log p = -k softplus(l) - softplus(-l),  k = 0, 1, 2, ...
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 2> inputs{given, this->maybe_detached(m_parameter, detach_parameters)};
    const bool from_logits = m_kind == Parameter::logits;
    return detail::scalar_log_density("Geometric.log_prob", inputs, [from_logits](const std::array<double, 2>& a) {
      const double k = a[0];
      if (std::isnan(k)) return detail::ScalarLogDensity<2>{k, {}};  // NaN in, NaN out (not "outside")
      if (k < 0 || std::isinf(k) || k != std::floor(k)) return detail::outside_support<2>();
      if (from_logits) {
        const double l = a[1];
        const double softplus_l = std::max(l, 0.0) + std::log1p(std::exp(-std::abs(l)));  // -log(1 - p)
        const double softplus_minus_l = std::max(-l, 0.0) + std::log1p(std::exp(-std::abs(l)));  // -log p
        const double p = 1 / (1 + std::exp(-l));
        const double one_minus_p = 1 / (1 + std::exp(l));
        const double value = -k * softplus_l - softplus_minus_l;
        return detail::ScalarLogDensity<2>{value, {0.0, one_minus_p - k * p}};
      }
      const double p = a[1];
      return detail::ScalarLogDensity<2>{k * std::log1p(-p) + std::log(p), {0.0, 1 / p - k / (1 - p)}};
    });
  }

  /// floor(e / -log(1 - p)),  e = -log u ~ Exponential(1): P(k >= j) = (1 - p)^j; a count
  /// beyond T's largest finite number is returned as that number
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const T* parameter = m_parameter.data();
    const std::size_t batch = m_parameter.size();
    const bool from_logits = m_kind == Parameter::logits;
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const double v = static_cast<double>(parameter[i % batch]);
        const double rate = from_logits ? std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))) : -std::log1p(-v);
        const double k = std::floor(-std::log(detail::open_uniform<double>(rng)) / rate);
        data[i] = static_cast<T>(std::min(k, static_cast<double>(std::numeric_limits<T>::max())));
      }
    });
  }

 private:
  Var<T> m_parameter;
  Parameter m_kind;
};

}  // namespace vaelib
