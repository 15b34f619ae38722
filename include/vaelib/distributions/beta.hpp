#pragma once
// Beta: a variable in (0, 1) with density x^(alpha-1) (1-x)^(beta-1) / B(alpha, beta),
// alpha > 0 and beta > 0 (mean alpha / (alpha + beta)). The entropy is differentiable in both
// parameters, computed in double free of the cancellation of its lgamma and digamma terms
// (float keeps ~1e-7 relative up to parameters of 1e6).
//
// Reparameterised through its two Gamma draws: z = X / (X + Y) = sigmoid(log X - log Y) with
// X ~ Gamma(alpha, 1) and Y ~ Gamma(beta, 1), each implicitly reparameterised (Gamma's
// d log X / d alpha, detail/gamma_cdf_gradient.hpp), so by the chain rule
//   dz/dalpha = z (1 - z) d log X / d alpha,   dz/dbeta = -z (1 - z) d log Y / d beta.
// Chosen over Beta's own implicit gradient (-(dI/dalpha) / p with I the regularised incomplete
// beta function) because it reuses the one incomplete-gamma derivative already needed, exact
// and cheap in every regime, where I's parameter derivatives need their own series and
// continued fractions in four regimes; the estimator is unbiased either way (the pair (X, Y)
// is reparameterised), at a somewhat higher variance. It is applied inside the sample node,
// in double from the log draws, rather than as tape ops on X and Y: the draws stay exactly
// those of the sampler, and small parameters, whose Gamma draws underflow, keep exact ratios
// and gradients.
//
// log_prob is computed in double (also on a float tape) with a log B(alpha, beta) free of
// the lgammas' cancellation (detail::log_beta): float keeps ~1e-7 relative up to parameters
// of 1e6 and beyond. Values outside [0, 1] give -inf; at x = 0 and x = 1 the density's limit
// (finite for a parameter of exactly 1, +inf below, -inf above; no gradient there); a NaN
// value gives NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/gamma_cdf_gradient.hpp"
#include "vaelib/distributions/detail/log_beta.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/detail/scalar_sample.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"

namespace vaelib {
namespace detail {

/// The Beta(a, b) entropy with its partials (a, b), for scalar_log_density:
///   H = log B(a, b) - (a - 1) digamma(a) - (b - 1) digamma(b) + (s - 2) digamma(s),  s = a + b
///   dH/da = (s - 2) trigamma(s) - (a - 1) trigamma(a)
///         = e(s) - e(a) - 2 trigamma(s) + trigamma(a),  e(x) = x trigamma(x) - 1 (small)
/// and dH/db likewise. Where a parameter reaches 20 the terms of size x log x cancel (at
/// a = b = 1e6 they are ~1e7, H about -6); with Stirling's lgamma and digamma(x) = log x - r(x),
/// r(x) = 1/(2x) - c'(x), they cancel in closed form:
///   both >= 20:     -(log1p(b/a) + log1p(a/b) + log s - log(2 pi)) / 2 + c(a) + c(b) - c(s)
///                   + (a - 1) r(a) + (b - 1) r(b) - (s - 2) r(s)
///   a < 20 <= b:    lgamma(a) - (a - 1) digamma(a) + a - log1p(a/b) / 2 - log s + c(b) - c(s)
///                   + (b - 1) r(b) - (s - 2) r(s)
/// (and the mirror image), each remaining term of size at most ~1.
inline ScalarLogDensity<2> beta_entropy(const std::array<double, 2>& in) {
  constexpr double half_log_2pi = 0.91893853320467274178;
  const double a = in[0], b = in[1], s = a + b;
  const double tri_s = trigamma(s), excess_s = trigamma_excess(s);
  const std::array<double, 2> partials{excess_s - trigamma_excess(a) - 2 * tri_s + trigamma(a),
                                       excess_s - trigamma_excess(b) - 2 * tri_s + trigamma(b)};
  const auto r = [](double x) { return 0.5 / x - stirling_correction_derivative(x); };  // log x - digamma(x), x >= 20
  const double small = std::min(a, b), large = std::max(a, b);
  if (large < 20) {
    return {log_beta(a, b) - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (s - 2) * digamma(s), partials};
  }
  const double tail = (large - 1) * r(large) - (s - 2) * r(s) + stirling_correction(large) - stirling_correction(s);
  if (small < 20) {
    return {std::lgamma(small) - (small - 1) * digamma(small) + small - 0.5 * std::log1p(small / large) -
                std::log(s) + tail,
            partials};
  }
  return {-0.5 * (std::log1p(b / a) + std::log1p(a / b) + std::log(s)) + half_log_2pi + stirling_correction(small) +
              (small - 1) * r(small) + tail,
          partials};
}

}  // namespace detail

template <class T>
class Beta final : public Distribution<T> {
 public:
  /// Beta(alpha, beta) for alpha > 0 and beta > 0, both finite (checked); batch_shape is the
  /// broadcast of both shapes.
  Beta(const Var<T>& alpha, const Var<T>& beta, DistributionOptions options = {})
      : Distribution<T>(alpha.tape(), broadcast_parameter_shapes("Beta", {alpha.shape(), beta.shape()}), Shape{},
                        options),
        m_alpha(alpha),
        m_beta(beta) {
    alpha.tape().check_handle("Beta", beta);
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(alpha, "alpha", "positive and finite", positive_finite);
    this->check_values(beta, "beta", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "Beta"; }
  Support<T> support() const override { return Support<T>::unit_interval(); }
  bool is_reparameterized() const override { return true; }

  Var<T> alpha() const { return m_alpha; }
  Var<T> beta() const { return m_beta; }
  /// E[x] = alpha / (alpha + beta)
  Var<T> mean() const override { return broadcast_to(m_alpha / (m_alpha + m_beta), this->batch_shape()); }
  /// Var[x] = alpha beta / ((alpha + beta)^2 (alpha + beta + 1)), as quotients (no overflow)
  Var<T> variance() const override {
    const Var<T> total = m_alpha + m_beta;
    return broadcast_to((m_alpha / total) * (m_beta / total) / (total + T(1)), this->batch_shape());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "alpha") return m_alpha;
    if (parameter_name == "beta") return m_beta;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = (alpha - 1) log x + (beta - 1) log1p(-x) - log B(alpha, beta), in double with
  /// a stable log B (detail::log_beta); -inf outside [0, 1], the density's limit at 0 and 1
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_alpha, detach_parameters),
                                       this->maybe_detached(m_beta, detach_parameters)};
    return detail::scalar_log_density("Beta.log_prob", inputs, [](const std::array<double, 3>& in) {
      constexpr double inf = std::numeric_limits<double>::infinity();
      const double x = in[0], a = in[1], b = in[2];
      if (std::isnan(x)) return detail::ScalarLogDensity<3>{x, {}};
      if (!(x >= 0 && x <= 1)) return detail::outside_support<3>();
      if (x == 0 || x == 1) {
        // the limit of (power - 1) log(edge distance): 0 for power 1, -inf above, +inf below
        const double power = x == 0 ? a : b;
        if (power != 1) return detail::ScalarLogDensity<3>{power > 1 ? -inf : inf, {}};
        return detail::ScalarLogDensity<3>{-detail::log_beta(a, b), {}};
      }
      const double log_x = std::log(x), log_1mx = std::log1p(-x);
      const double digamma_sum = detail::digamma(a + b);
      return detail::ScalarLogDensity<3>{(a - 1) * log_x + (b - 1) * log_1mx - detail::log_beta(a, b),
                                         {(a - 1) / x - (b - 1) / (1 - x), log_x - detail::digamma(a) + digamma_sum,
                                          log_1mx - detail::digamma(b) + digamma_sum}};
    });
  }

  /// X / (X + Y) = sigmoid(log X - log Y) for X ~ Gamma(alpha, 1), Y ~ Gamma(beta, 1) drawn in
  /// logs (detail::sample_log_standard_gamma), so that small alpha and beta, whose gamma
  /// draws underflow, still give exact ratios. Draws are kept strictly inside (0, 1) in T
  /// (at least the smallest normal number, at most the largest T below 1), so that log_prob
  /// of every draw is finite; the gradient is that of the draw before this clamp.
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const T low = std::numeric_limits<T>::min();
    const T high = std::nextafter(T(1), T(0));
    const std::array<Var<T>, 2> parameters{m_alpha, m_beta};
    return detail::scalar_sample(
        "Beta.sample", this->sample_shape(n), parameters,
        [&rng, low, high](const std::array<double, 2>& p, bool want_partials) {
          const double a = p[0], b = p[1];
          const double log_x = detail::sample_log_standard_gamma(a, rng);
          const double log_y = detail::sample_log_standard_gamma(b, rng);
          const T value = std::clamp(static_cast<T>(1 / (1 + std::exp(log_y - log_x))), low, high);
          if (!want_partials) return detail::ScalarDraw<T, 2>{value, {}};
          // z (1 - z) for z = sigmoid(-d), without forming 1 - z
          const double d = log_y - log_x;
          const double slope = 1 / ((1 + std::exp(d)) * (1 + std::exp(-d)));
          if (!(slope > 0)) return detail::ScalarDraw<T, 2>{value, {}};
          return detail::ScalarDraw<T, 2>{value,
                                          {slope * detail::standard_gamma_log_draw_alpha_derivative(log_x, a),
                                           -slope * detail::standard_gamma_log_draw_alpha_derivative(log_y, b)}};
        });
  }

  /// log B(alpha, beta) - (alpha - 1) digamma(alpha) - (beta - 1) digamma(beta)
  ///   + (alpha + beta - 2) digamma(alpha + beta), in double without the cancellation of its
  /// large terms (detail::beta_entropy)
  Var<T> entropy_impl() const override {
    const std::array<Var<T>, 2> inputs{m_alpha, m_beta};
    return detail::scalar_log_density("Beta.entropy", inputs, detail::beta_entropy);
  }

 private:
  Var<T> m_alpha;
  Var<T> m_beta;
};

}  // namespace vaelib
