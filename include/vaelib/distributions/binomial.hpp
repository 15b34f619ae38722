#pragma once
// Binomial: the number k in {0, ..., n} of successes in n = total_count independent trials of
// success probability p: P(k) = C(n, k) p^k (1 - p)^(n - k). Parameterised by the logits
// l = log(p / (1 - p)) (log P(k) = log C(n, k) - k softplus(-l) - (n - k) softplus(l), stable
// for any finite l) or by p in (0, 1). Counts are stored as T values 0, 1, 2, ... Not
// reparameterised; total_count gets no gradient (it is a count).
//
// log_prob is computed in double (also on a float tape), in a form where the terms of size
// n log n (the lgammas of C(n, k) against k log p + (n - k) log(1 - p)) cancel exactly
// (detail::binomial_log_probability): ~1e-15 absolute in double and float's rounding of the
// result up to n = 1e6 and beyond. A value that is not a whole
// number in [0, n] (negative, fractional, above n, infinite) gives -inf, a NaN value NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/log_beta.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"

namespace vaelib {
namespace detail {

/// A Beta(a, b) draw as the pair (x, 1 - x), both computed from the two Gamma draws in logs
/// (x = g_a / (g_a + g_b)), so that neither loses digits when the other is close to 1.
struct BetaDraw {
  double x, one_minus_x;
};

inline BetaDraw sample_beta_pair(double a, double b, Rng& rng) {
  const double log_ga = sample_log_standard_gamma(a, rng);
  const double log_gb = sample_log_standard_gamma(b, rng);
  return {1 / (1 + std::exp(log_gb - log_ga)), 1 / (1 + std::exp(log_ga - log_gb))};
}

/// k ~ Binomial(n, p) for a whole number n >= 0 (exact in double) and p in [0, 1], with
/// q = 1 - p given separately (from the logits, without rounding). Exact for every n, in
/// O(log n) Beta draws: while n > 32, the a-th smallest of n uniforms, a = floor((n + 1) / 2),
/// is a Beta(a, n + 1 - a) draw x; if x < p, those a uniforms are successes and the other
/// n - a are uniform on (x, 1) (success probability (p - x) / (1 - x)); otherwise the a - 1
/// below x are uniform on (0, x) (success probability p / x) and the rest fail. The last
/// n <= 32 trials are drawn one by one, on the smaller of p and q.
inline double sample_binomial(double n, double p, double q, Rng& rng) {
  double successes = 0;
  double sign = 1;  // counting failures instead of successes (p > 1/2) flips the result
  double offset = 0;
  if (p > q) {
    std::swap(p, q);
    sign = -1;
    offset = n;
  }
  while (n > 32) {
    const double a = std::floor((n + 1) / 2);
    const BetaDraw x = sample_beta_pair(a, n + 1 - a, rng);
    if (x.x < p) {
      successes += a;
      n -= a;
      p = (p - x.x) / x.one_minus_x;
    } else {
      n = a - 1;
      p = p / x.x;
    }
    p = std::clamp(p, 0.0, 1.0);
  }
  for (double i = 0; i < n; ++i) successes += rng.uniform<double>() < p ? 1 : 0;
  return offset + sign * successes;
}

/// log C(n, k) = lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) for whole 0 <= k <= n, as
/// -log(n + 1) - log B(k + 1, n - k + 1) (no cancellation of terms of size n log n).
inline double log_binomial_coefficient(double n, double k) {
  return -std::log1p(n) - log_beta(k + 1, n - k + 1);
}

/// x log(x / m) + m - x >= 0 for x > 0, m >= 0, given log_ratio = log(x / m) (which stays
/// finite where m underflows): x (u - log1p(u)), u = (m - x) / x, near x = m, where the
/// terms cancel.
inline double count_deviance(double x, double m, double log_ratio) {
  const double u = (m - x) / x;
  if (std::abs(u) < 0.5) return x * (u - std::log1p(u));
  return x * log_ratio + m - x;
}

/// log C(n, k) + k log p + (n - k) log q for whole 0 <= k <= n, p + q = 1 (both given, with
/// their logarithms). Where k and n - k are both >= 20 the terms of size n log n cancel
/// exactly in Stirling's form (a saddle-point form, as in Loader's dbinom):
///   c(n) - c(k) - c(n - k) + (log(n / (k (n - k))) - log 2 pi) / 2
///   - deviance(k, n p) - deviance(n - k, n q)
/// so that log P keeps ~1e-15 absolute at n = 1e6 (the plain sum leaves ~1e-10 of 7e5).
inline double binomial_log_probability(double n, double k, double p, double q, double log_p, double log_q) {
  constexpr double log_2pi = 1.83787706640934548356;
  if (k >= 20 && n - k >= 20) {
    const double log_n = std::log(n), log_k = std::log(k), log_rest = std::log(n - k);
    return stirling_correction(n) - stirling_correction(k) - stirling_correction(n - k) +
           0.5 * (log_n - log_k - log_rest - log_2pi) - count_deviance(k, n * p, log_k - log_n - log_p) -
           count_deviance(n - k, n * q, log_rest - log_n - log_q);
  }
  return log_binomial_coefficient(n, k) + (k == 0 ? 0.0 : k * log_p) + (k == n ? 0.0 : (n - k) * log_q);
}

/// Whether k is a whole number in [0, n] (n itself a whole number >= 0).
inline bool is_count_up_to(double k, double n) { return k >= 0 && k <= n && k == std::floor(k); }

/// softplus(x) = log(1 + exp(x)) in double, without overflow: max(x, 0) + log1p(exp(-|x|)).
inline double log1p_exp(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }

}  // namespace detail

template <class T>
class Binomial final : public Distribution<T> {
 public:
  enum class Parameter { logits, probs };

  /// Binomial(total_count, sigmoid(logits)): total_count whole numbers >= 0, logits finite
  /// (both checked); batch_shape is the broadcast of the two shapes.
  Binomial(const Var<T>& total_count, const Var<T>& logits, DistributionOptions options = {})
      : Binomial(total_count, logits, Parameter::logits, options) {}
  /// The same as Binomial(total_count, logits, options).
  static Binomial with_logits(const Var<T>& total_count, const Var<T>& logits, DistributionOptions options = {}) {
    return Binomial(total_count, logits, Parameter::logits, options);
  }
  /// Binomial(total_count, probs) for probs in the open interval (0, 1) (checked).
  static Binomial with_probs(const Var<T>& total_count, const Var<T>& probs, DistributionOptions options = {}) {
    return Binomial(total_count, probs, Parameter::probs, options);
  }

  Binomial(const Var<T>& total_count, const Var<T>& logits_or_probs, Parameter kind, DistributionOptions options = {})
      : Distribution<T>(total_count.tape(),
                        broadcast_parameter_shapes("Binomial", {total_count.shape(), logits_or_probs.shape()}), Shape{},
                        options),
        m_total_count(total_count),
        m_parameter(logits_or_probs),
        m_kind(kind) {
    total_count.tape().check_handle("Binomial", logits_or_probs);
    this->check_values(total_count, "total_count", "a whole number >= 0",
                       [](T v) { return v >= T(0) && v < std::numeric_limits<T>::infinity() && v == std::floor(v); });
    if (kind == Parameter::logits)
      this->check_values(m_parameter, "logits", "finite", [](T v) { return std::isfinite(v); });
    else
      this->check_values(m_parameter, "probs", "in the open interval (0, 1)", [](T v) { return v > T(0) && v < T(1); });
  }

  std::string_view name() const override { return "Binomial"; }
  bool is_reparameterized() const override { return false; }

  Var<T> total_count() const { return m_total_count; }
  /// The logits (computed from probs when that is the parameter).
  Var<T> logits() const { return m_kind == Parameter::logits ? m_parameter : log(m_parameter) - log1p(-m_parameter); }
  /// The success probability (computed from the logits when they are the parameter).
  Var<T> probs() const { return m_kind == Parameter::probs ? m_parameter : sigmoid(m_parameter); }
  /// E[k] = n p
  Var<T> mean() const override { return broadcast_to(m_total_count * probs(), this->batch_shape()); }
  /// Var[k] = n p (1 - p) (from logits: n sigmoid(l) sigmoid(-l), without forming 1 - p)
  Var<T> variance() const override {
    const Var<T> spread = m_kind == Parameter::logits ? sigmoid(m_parameter) * sigmoid(-m_parameter)
                                                      : m_parameter * (T(1) - m_parameter);
    return broadcast_to(m_total_count * spread, this->batch_shape());
  }

  /// {0, 1, ..., total_count}
  Support<T> support() const override { return Support<T>::integer_interval(T(0), m_total_count); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "total_count") return m_total_count;
    if (parameter_name == "logits") return logits();
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log P(k) = log C(n, k) + k log p + (n - k) log(1 - p)
  ///          = log C(n, k) - k softplus(-l) - (n - k) softplus(l),  k = 0, ..., n
  /// (detail::binomial_log_probability)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, m_total_count, this->maybe_detached(m_parameter, detach_parameters)};
    const bool from_logits = m_kind == Parameter::logits;
    return detail::scalar_log_density("Binomial.log_prob", inputs, [from_logits](const std::array<double, 3>& a) {
      const double k = a[0], n = a[1];
      if (std::isnan(k)) return detail::ScalarLogDensity<3>{k, {}};  // NaN in, NaN out (not "outside")
      if (!detail::is_count_up_to(k, n)) return detail::outside_support<3>();
      if (from_logits) {
        const double l = a[2];
        const double p = 1 / (1 + std::exp(-l)), q = 1 / (1 + std::exp(l));
        const double value =
            detail::binomial_log_probability(n, k, p, q, -detail::log1p_exp(-l), -detail::log1p_exp(l));
        return detail::ScalarLogDensity<3>{value, {0.0, 0.0, k - n * p}};
      }
      const double p = a[2];
      const double value = detail::binomial_log_probability(n, k, p, 1 - p, std::log(p), std::log1p(-p));
      return detail::ScalarLogDensity<3>{value, {0.0, 0.0, k / p - (n - k) / (1 - p)}};
    });
  }

  /// detail::sample_binomial: exact, O(log n) Beta draws per count
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const std::size_t batch_size = shape_size(batch);
    const T* count = m_total_count.data();
    const T* parameter = m_parameter.data();
    const Shape& count_shape = m_total_count.shape();
    const Shape& parameter_shape = m_parameter.shape();
    const bool from_logits = m_kind == Parameter::logits;
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t j = i % batch_size;
        const double trials = static_cast<double>(count[detail::broadcast_source_index(j, batch, count_shape)]);
        const double v = static_cast<double>(parameter[detail::broadcast_source_index(j, batch, parameter_shape)]);
        const double p = from_logits ? 1 / (1 + std::exp(-v)) : v;
        const double q = from_logits ? 1 / (1 + std::exp(v)) : 1 - v;
        data[i] = static_cast<T>(detail::sample_binomial(trials, p, q, rng));
      }
    });
  }

 private:
  Var<T> m_total_count;
  Var<T> m_parameter;
  Parameter m_kind;
};

}  // namespace vaelib
