#pragma once
// Poisson: a count k in {0, 1, 2, ...} with P(k) = rate^k exp(-rate) / k!, parameterised by
// the rate or by its logarithm (the usual output of a network head). Counts are stored as T
// values 0, 1, 2, ... Not reparameterised.
//
// log_prob is computed in double (also on a float tape), without the cancellation of
// k log(rate), rate and lgamma(k + 1) at large counts: float keeps ~1e-7 relative up to
// rate = 1e6 and beyond. A value that is not a nonnegative integer (negative, fractional,
// infinite) gives -inf; a NaN value NaN.

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {
namespace detail {

/// k ~ Poisson(lambda), lambda > 0 finite, in double. Knuth's multiplication method for
/// lambda < 10 (multiply uniforms until the product drops below exp(-lambda): on average
/// lambda + 1 uniforms); for lambda >= 10 Hormann's transformed rejection with squeeze, PTRS
/// ("The transformed rejection method for generating Poisson random variables", Insurance:
/// Mathematics and Economics 12, 1993), which takes about 2.3 uniforms per draw whatever
/// lambda is.
inline double sample_poisson(double lambda, Rng& rng) {
  if (lambda < 10) {
    const double limit = std::exp(-lambda);
    double product = 1 - rng.uniform<double>();  // (0, 1]
    double k = 0;
    while (product > limit) {
      product *= 1 - rng.uniform<double>();
      k += 1;
    }
    return k;
  }
  const double log_lambda = std::log(lambda);
  const double b = 0.931 + 2.53 * std::sqrt(lambda);
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double v_r = 0.9277 - 3.6224 / (b - 2);
  while (true) {
    const double u = rng.uniform<double>() - 0.5;
    const double v = 1 - rng.uniform<double>();  // (0, 1]: log v is finite
    const double us = 0.5 - std::abs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= v_r) return k;  // the squeeze: accepted without the density
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inv_alpha) - std::log(a / (us * us) + b) <=
        -lambda + k * log_lambda - std::lgamma(k + 1))
      return k;
  }
}

/// The Poisson log-probability of the count k for rate = exp(log_rate) (both given, the one
/// not parameterised derived from the other) and its partials in k, the rate and the log-rate:
/// k log(rate) - rate - lgamma(k + 1); for k >= 20 with Stirling's form of lgamma(k + 1), so
/// that the terms of size k log k cancel exactly:
///   k (log1p(u) - u) - (log k)/2 - log(2 pi)/2 - c(k),  u = (rate - k) / k  (from the rate)
///   k (d - expm1(d)) - (log k)/2 - log(2 pi)/2 - c(k),  d = log_rate - log k  (from the log-rate)
/// -inf for k not a nonnegative integer (or infinite), NaN for a NaN k.
struct PoissonLogProbability {
  double value;
  double d_count, d_rate, d_log_rate;
};

inline PoissonLogProbability poisson_log_probability(double k, double rate, double log_rate, bool from_log_rate) {
  constexpr double half_log_2pi = 0.91893853320467274178;
  if (std::isnan(k)) return {k, 0, 0, 0};
  if (!(k >= 0) || std::isinf(k) || k != std::floor(k)) return {-std::numeric_limits<double>::infinity(), 0, 0, 0};
  double value = 0;
  if (k >= 20) {
    const double log_k = std::log(k);
    double cancelled = 0;  // k log(rate / k) - (rate - k)
    if (from_log_rate) {
      const double d = log_rate - log_k;
      cancelled = k * (d - std::expm1(d));
    } else {
      const double u = (rate - k) / k;
      cancelled = k * (std::log1p(u) - u);
    }
    value = cancelled - 0.5 * log_k - half_log_2pi - stirling_correction(k);
  } else {
    value = (k == 0 ? 0.0 : k * log_rate) - rate - std::lgamma(k + 1);
  }
  return {value, log_rate - digamma(k + 1), k / rate - 1, k - rate};
}

}  // namespace detail

template <class T>
class Poisson final : public Distribution<T> {
 public:
  enum class Scale { rate, log_rate };

  /// Poisson(rate) for rate > 0 and finite (checked); batch_shape = rate.shape.
  explicit Poisson(const Var<T>& rate, DistributionOptions options = {}) : Poisson(rate, Scale::rate, options) {}

  /// The same as Poisson(rate, options).
  static Poisson with_rate(const Var<T>& rate, DistributionOptions options = {}) {
    return Poisson(rate, Scale::rate, options);
  }
  /// Poisson(exp(log_rate)) for finite log_rate (checked).
  static Poisson with_log_rate(const Var<T>& log_rate, DistributionOptions options = {}) {
    return Poisson(log_rate, Scale::log_rate, options);
  }

  Poisson(const Var<T>& rate_or_log_rate, Scale kind, DistributionOptions options = {})
      : Distribution<T>(rate_or_log_rate.tape(), rate_or_log_rate.shape(), Shape{}, options),
        m_parameter(rate_or_log_rate),
        m_kind(kind) {
    if (kind == Scale::rate)
      this->check_values(m_parameter, "rate", "positive and finite",
                         [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
    else
      this->check_values(m_parameter, "log_rate", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "Poisson"; }
  Support<T> support() const override { return Support<T>::nonnegative_integer(); }
  bool is_reparameterized() const override { return false; }

  /// Whether the distribution was built from log-rates (with_log_rate): then log_rate() is the
  /// parameter itself and rate() a new exp node, otherwise the other way round. The stable
  /// forms that use a Poisson (its KL) work from whichever it holds.
  bool holds_log_rate() const noexcept { return m_kind == Scale::log_rate; }
  /// The rate (computed from log_rate when that is the parameter).
  Var<T> rate() const { return m_kind == Scale::rate ? m_parameter : exp(m_parameter); }
  Var<T> log_rate() const { return m_kind == Scale::log_rate ? m_parameter : log(m_parameter); }
  /// E[k] = rate
  Var<T> mean() const override { return rate(); }
  /// Var[k] = rate
  Var<T> variance() const override { return rate(); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "rate") return rate();
    if (parameter_name == "log_rate") return log_rate();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log P(k) = k log(rate) - rate - lgamma(k + 1), in double (detail::poisson_log_probability);
  /// -inf where k is not a nonnegative integer
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 2> inputs{given, this->maybe_detached(m_parameter, detach_parameters)};
    if (m_kind == Scale::log_rate) {
      return detail::scalar_log_density("Poisson.log_prob", inputs, [](const std::array<double, 2>& a) {
        const auto r = detail::poisson_log_probability(a[0], std::exp(a[1]), a[1], true);
        return detail::ScalarLogDensity<2>{r.value, {r.d_count, r.d_log_rate}};
      });
    }
    return detail::scalar_log_density("Poisson.log_prob", inputs, [](const std::array<double, 2>& a) {
      const auto r = detail::poisson_log_probability(a[0], a[1], std::log(a[1]), false);
      return detail::ScalarLogDensity<2>{r.value, {r.d_count, r.d_rate}};
    });
  }

  /// Knuth's method for rate < 10, Hormann's PTRS above (see detail::sample_poisson)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const T* p = m_parameter.data();
    const std::size_t batch = m_parameter.size();
    const bool log_scale = m_kind == Scale::log_rate;
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const double v = static_cast<double>(p[i % batch]);
        data[i] = static_cast<T>(detail::sample_poisson(log_scale ? std::exp(v) : v, rng));
      }
    });
  }

 private:
  Var<T> m_parameter;
  Scale m_kind;
};

}  // namespace vaelib
