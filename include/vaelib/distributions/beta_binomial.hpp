#pragma once
// BetaBinomial: k ~ Binomial(n, p) with p ~ Beta(alpha, beta): the number of successes in
// n = total_count trials whose success probability is itself uncertain (overdispersed counts):
//   P(k) = C(n, k) B(k + alpha, n - k + beta) / B(alpha, beta),  k = 0, ..., n.
// Counts are stored as T values 0, 1, 2, ... Not reparameterised; total_count gets no
// gradient (it is a count), alpha and beta do.
//
// log_prob is computed in double (also on a float tape) from log-Beta functions that do not
// cancel internally (detail::log_beta): float keeps its rounding of the result up to
// parameters of 1e6; in double the three log-Betas still cancel against each other, leaving
// ~1e-16 of the largest (~1e-10 absolute at n = alpha = beta = 1e6). A value that is not a
// whole number in [0, n] gives -inf, a NaN value NaN.

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

namespace vaelib {

template <class T>
class BetaBinomial final : public Distribution<T> {
 public:
  /// BetaBinomial(total_count, alpha, beta): total_count whole numbers >= 0, alpha and beta
  /// positive and finite (all checked); batch_shape is the broadcast of the three shapes.
  BetaBinomial(const Var<T>& total_count, const Var<T>& alpha, const Var<T>& beta, DistributionOptions options = {})
      : Distribution<T>(total_count.tape(),
                        broadcast_parameter_shapes("BetaBinomial", {total_count.shape(), alpha.shape(), beta.shape()}),
                        Shape{}, options),
        m_total_count(total_count),
        m_alpha(alpha),
        m_beta(beta) {
    total_count.tape().check_handle("BetaBinomial", alpha);
    total_count.tape().check_handle("BetaBinomial", beta);
    this->check_values(total_count, "total_count", "a whole number >= 0",
                       [](T v) { return v >= T(0) && v < std::numeric_limits<T>::infinity() && v == std::floor(v); });
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(alpha, "alpha", "positive and finite", positive_finite);
    this->check_values(beta, "beta", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "BetaBinomial"; }
  bool is_reparameterized() const override { return false; }

  Var<T> total_count() const { return m_total_count; }
  Var<T> alpha() const { return m_alpha; }
  Var<T> beta() const { return m_beta; }
  /// E[k] = n alpha / (alpha + beta)
  Var<T> mean() const override {
    return broadcast_to(m_total_count * (m_alpha / (m_alpha + m_beta)), this->batch_shape());
  }
  /// Var[k] = n alpha beta (alpha + beta + n) / ((alpha + beta)^2 (alpha + beta + 1))
  Var<T> variance() const override {
    const Var<T> total = m_alpha + m_beta;
    return broadcast_to(
        m_total_count * (m_alpha / total) * (m_beta / total) * ((total + m_total_count) / (total + T(1))),
        this->batch_shape());
  }

  /// {0, 1, ..., total_count}
  Support<T> support() const override { return Support<T>::integer_interval(T(0), m_total_count); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "total_count") return m_total_count;
    if (parameter_name == "alpha") return m_alpha;
    if (parameter_name == "beta") return m_beta;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log P(k) = log C(n, k) + log B(k + alpha, n - k + beta) - log B(alpha, beta);
  /// d/dalpha = digamma(k + alpha) - digamma(n + alpha + beta) - digamma(alpha) + digamma(alpha + beta)
  /// d/dbeta  = digamma(n - k + beta) - digamma(n + alpha + beta) - digamma(beta) + digamma(alpha + beta)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 4> inputs{given, m_total_count, this->maybe_detached(m_alpha, detach_parameters),
                                       this->maybe_detached(m_beta, detach_parameters)};
    return detail::scalar_log_density("BetaBinomial.log_prob", inputs, [](const std::array<double, 4>& a) {
      const double x = a[0], n = a[1], alpha = a[2], beta = a[3];
      if (std::isnan(x)) return detail::ScalarLogDensity<4>{x, {}};  // NaN in, NaN out (not "outside")
      if (!detail::is_count_up_to(x, n)) return detail::outside_support<4>();
      const double value = detail::log_binomial_coefficient(n, x) + detail::log_beta(x + alpha, n - x + beta) -
                           detail::log_beta(alpha, beta);
      const double common = detail::digamma(alpha + beta) - detail::digamma(n + alpha + beta);
      return detail::ScalarLogDensity<4>{
          value,
          {0.0, 0.0, detail::digamma(x + alpha) - detail::digamma(alpha) + common,
           detail::digamma(n - x + beta) - detail::digamma(beta) + common}};
    });
  }

  /// p ~ Beta(alpha, beta) (two Gamma draws), then k ~ Binomial(n, p) (detail::sample_binomial)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const Shape& batch = this->batch_shape();
    const std::size_t batch_size = shape_size(batch);
    return this->noise(this->sample_shape(n), [&](T* data, std::size_t size) {
      for (std::size_t i = 0; i < size; ++i) {
        const std::size_t j = i % batch_size;
        const auto at = [&](const Var<T>& v) {
          return static_cast<double>(v.data()[detail::broadcast_source_index(j, batch, v.shape())]);
        };
        const detail::BetaDraw p = detail::sample_beta_pair(at(m_alpha), at(m_beta), rng);
        data[i] = static_cast<T>(detail::sample_binomial(at(m_total_count), p.x, p.one_minus_x, rng));
      }
    });
  }

 private:
  Var<T> m_total_count;
  Var<T> m_alpha;
  Var<T> m_beta;
};

}  // namespace vaelib
