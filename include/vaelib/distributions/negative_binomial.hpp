#pragma once
// NegativeBinomial: the number k in {0, 1, 2, ...} of successes before the total_count-th
// failure of Bernoulli trials with success probability p, total_count r > 0 a real number
// (the Gamma-Poisson mixture: k ~ Poisson(lambda), lambda ~ Gamma(r, (1 - p) / p)):
//   P(k) = Gamma(k + r) / (Gamma(r) k!) p^k (1 - p)^r.
// Parameterised by the logits l = log(p / (1 - p)) (the log of the mean per unit of r: E[k] =
// r exp(l)), the stable form: k log p + r log(1 - p) = -k softplus(-l) - r softplus(l). Counts
// are stored as T values 0, 1, 2, ... Not reparameterised; log_prob is differentiable in r and l.
//
// log_prob is computed in double (also on a float tape); where k and r are both >= 20 the
// terms of size k log k and r log r cancel exactly in Stirling's form, so that float keeps its
// rounding of the result up to r, k = 1e6 and beyond. A value that is not a whole number >= 0
// gives -inf, a NaN value NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <string_view>

#include "vaelib/autodiff/detail/broadcast_index.hpp"
#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/binomial.hpp"
#include "vaelib/distributions/detail/log_beta.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"
#include "vaelib/distributions/poisson.hpp"

namespace vaelib {
namespace detail {

/// log[Gamma(k + r) / (Gamma(r) k!)] + k log p + r log q for a whole k >= 0, r > 0, p + q = 1
/// (given with their logarithms). With m = k + r, where k, r >= 20 (Stirling's form):
///   c(m) - c(r) - c(k) + (log(r / (m k)) - log 2 pi) / 2 - deviance(r, m q) - deviance(k, m p)
/// otherwise -log B(r, k + 1) - log(k + r) + k log p + r log q (detail::log_beta).
inline double negative_binomial_log_probability(double k, double r, double p, double q, double log_p, double log_q) {
  constexpr double log_2pi = 1.83787706640934548356;
  if (k == 0) return r * log_q;
  if (k >= 20 && r >= 20) {
    const double m = k + r;
    const double log_m = std::log(m), log_k = std::log(k), log_r = std::log(r);
    return stirling_correction(m) - stirling_correction(r) - stirling_correction(k) +
           0.5 * (log_r - log_m - log_k - log_2pi) - count_deviance(r, m * q, log_r - log_m - log_q) -
           count_deviance(k, m * p, log_k - log_m - log_p);
  }
  return -log_beta(r, k + 1) - std::log(k + r) + k * log_p + r * log_q;
}

}  // namespace detail

template <class T>
class NegativeBinomial final : public Distribution<T> {
 public:
  /// NegativeBinomial(total_count, logits): total_count > 0 and finite, logits finite (both
  /// checked); batch_shape is the broadcast of the two shapes.
  NegativeBinomial(const Var<T>& total_count, const Var<T>& logits, DistributionOptions options = {})
      : Distribution<T>(total_count.tape(),
                        broadcast_parameter_shapes("NegativeBinomial", {total_count.shape(), logits.shape()}), Shape{},
                        options),
        m_total_count(total_count),
        m_logits(logits) {
    total_count.tape().check_handle("NegativeBinomial", logits);
    this->check_values(total_count, "total_count", "positive and finite",
                       [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); });
    this->check_values(logits, "logits", "finite", [](T v) { return std::isfinite(v); });
  }

  std::string_view name() const override { return "NegativeBinomial"; }
  bool is_reparameterized() const override { return false; }

  Var<T> total_count() const { return m_total_count; }
  Var<T> logits() const { return m_logits; }
  /// The success probability sigmoid(logits).
  Var<T> probs() const { return sigmoid(m_logits); }
  /// E[k] = r p / (1 - p) = r exp(l)
  Var<T> mean() const override { return broadcast_to(m_total_count * exp(m_logits), this->batch_shape()); }
  /// Var[k] = r p / (1 - p)^2 = r exp(l) / sigmoid(-l)
  Var<T> variance() const override {
    return broadcast_to(m_total_count * exp(m_logits) / sigmoid(-m_logits), this->batch_shape());
  }

  /// {0, 1, 2, ...}
  Support<T> support() const override { return Support<T>::nonnegative_integer(); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "total_count") return m_total_count;
    if (parameter_name == "logits") return m_logits;
    if (parameter_name == "probs") return probs();
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log P(k) = lgamma(k + r) - lgamma(r) - lgamma(k + 1) - k softplus(-l) - r softplus(l)
  /// (detail::negative_binomial_log_probability);
  /// d/dl = k (1 - p) - r p,  d/dr = digamma(k + r) - digamma(r) - softplus(l)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_total_count, detach_parameters),
                                       this->maybe_detached(m_logits, detach_parameters)};
    return detail::scalar_log_density("NegativeBinomial.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double k = a[0], r = a[1], l = a[2];
      if (std::isnan(k)) return detail::ScalarLogDensity<3>{k, {}};  // NaN in, NaN out (not "outside")
      if (!(k >= 0) || std::isinf(k) || k != std::floor(k)) return detail::outside_support<3>();
      const double p = 1 / (1 + std::exp(-l)), q = 1 / (1 + std::exp(l));
      const double log_q = -detail::log1p_exp(l);
      const double value = detail::negative_binomial_log_probability(k, r, p, q, -detail::log1p_exp(-l), log_q);
      const double d_r = (k == 0 ? 0.0 : detail::digamma(k + r) - detail::digamma(r)) + log_q;
      return detail::ScalarLogDensity<3>{value, {0.0, d_r, k * q - r * p}};
    });
  }

  /// k ~ Poisson(g exp(l)), g ~ Gamma(r, 1) (detail::sample_log_standard_gamma, in logs);
  /// a count beyond T's largest finite number is returned as that number
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const std::size_t batch_size = shape_size(batch);
    const T* count = m_total_count.data();
    const T* logits = m_logits.data();
    const Shape& count_shape = m_total_count.shape();
    const Shape& logits_shape = m_logits.shape();
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t j = i % batch_size;
        const double r = static_cast<double>(count[detail::broadcast_source_index(j, batch, count_shape)]);
        const double l = static_cast<double>(logits[detail::broadcast_source_index(j, batch, logits_shape)]);
        const double rate = std::min(std::exp(detail::sample_log_standard_gamma(r, rng) + l), 1e300);
        const double k = detail::sample_poisson(rate, rng);
        data[i] = static_cast<T>(std::min(k, static_cast<double>(std::numeric_limits<T>::max())));
      }
    });
  }

 private:
  Var<T> m_total_count;
  Var<T> m_logits;
};

}  // namespace vaelib
