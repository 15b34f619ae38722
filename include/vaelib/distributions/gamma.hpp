#pragma once
// Gamma: a positive variable with density beta^alpha x^(alpha-1) exp(-beta x) / Gamma(alpha),
// shape alpha > 0 and rate beta > 0 (mean alpha / beta). The entropy is differentiable in both
// parameters, computed in double free of the cancellation of its lgamma and digamma terms
// (float keeps ~1e-7 relative up to alpha = 1e6).
//
// Reparameterised by implicit reparameterisation (Figurnov, Mohamed & Mnih 2018): the draw
// z = g / beta, g ~ Gamma(alpha, 1) by Marsaglia-Tsang rejection, carries
//   dz/dalpha = -(dP/dalpha)(alpha, g) / (beta p(g; alpha)) = z (d log g / d alpha),
//   dz/dbeta = -z / beta,
// P the standard Gamma's CDF (detail/gamma_cdf_gradient.hpp): the derivative of the quantile
// at the draw's own CDF level, which makes E[d f(z) / d theta] = d E[f(z)] / d theta. The draws
// are those of the sampler alone (the gradient is computed beside them, only when a parameter
// needs one).
//
// log_prob is computed in double (also on a float tape), without the cancellation of
// alpha log beta, (alpha - 1) log x, beta x and lgamma(alpha) at large alpha: float keeps
// ~1e-7 relative up to alpha = 1e6 and beyond. Values outside the support (x < 0, x = +inf)
// give -inf, x = 0 the density's limit, a NaN value NaN.

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/gamma_cdf_gradient.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/detail/scalar_sample.hpp"
#include "vaelib/distributions/distribution.hpp"

namespace vaelib {
namespace detail {

/// log g for g ~ Gamma(alpha, 1), alpha > 0 finite, in double. Marsaglia and Tsang, "A simple
/// method for generating gamma variables" (ACM TOMS 26, 2000): for alpha >= 1, with
/// d = alpha - 1/3 and c = 1 / sqrt(9 d), draw x ~ N(0, 1) and u ~ U(0, 1) until v = (1 + c x)^3
/// > 0 and u < 1 - 0.0331 x^4 (the squeeze) or log u < x^2 / 2 + d (1 - v + log v); then
/// g = d v. For alpha < 1 the boost g = g' u^(1/alpha), g' ~ Gamma(alpha + 1, 1), taken in
/// logs: log g = log g' + log(u) / alpha, which stays finite where g itself underflows
/// (alpha << 1), so that ratios such as a Beta draw remain exact.
inline double sample_log_standard_gamma(double alpha, Rng& rng) {
  if (alpha < 1) {
    const double log_boosted = sample_log_standard_gamma(alpha + 1, rng);
    const double u = 1 - rng.uniform<double>();  // (0, 1]
    return log_boosted + std::log(u) / alpha;
  }
  const double d = alpha - 1.0 / 3;
  const double c = 1 / std::sqrt(9 * d);
  while (true) {
    double x = 0;
    double v = 0;
    do {
      x = rng.normal<double>();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const double u = 1 - rng.uniform<double>();  // (0, 1]
    const double x2 = x * x;
    if (u < 1 - 0.0331 * x2 * x2) return std::log(d * v);
    if (std::log(u) < 0.5 * x2 + d * (1 - v + std::log(v))) return std::log(d * v);
  }
}

/// The Gamma(alpha, rate) log-density at x with its partials (x, alpha, rate), for
/// scalar_log_density. Written as alpha log(rate x) - rate x - lgamma(alpha) - log x; for
/// alpha >= 20 with Stirling's form of lgamma, so that the terms of size alpha log alpha
/// cancel exactly:
///   alpha (log1p(u) - u) + (log alpha)/2 - log(2 pi)/2 - c(alpha) - log x,
///   u = (rate x - alpha) / alpha  (one rounding, by fma)
/// At x = 0 the density's limit (rate for alpha = 1, 0 above, +inf below; no gradient but
/// d/drate = 1/rate for alpha = 1); -inf below 0 and at +inf; NaN for a NaN x.
inline ScalarLogDensity<3> gamma_log_density(const std::array<double, 3>& in) {
  constexpr double half_log_2pi = 0.91893853320467274178;
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double x = in[0], alpha = in[1], rate = in[2];
  if (std::isnan(x)) return {x, {}};
  if (!(x >= 0) || x == inf) return outside_support<3>();
  if (x == 0) {
    if (alpha == 1) return {std::log(rate), {0, 0, 1 / rate}};
    return {alpha > 1 ? -inf : inf, {}};
  }
  const double log_x = std::log(x);
  const double log_rate_x = std::log(rate) + log_x;
  const double rate_x = rate * x;
  double value = 0;
  if (std::isinf(rate_x)) {
    value = -inf;  // - rate x dominates (double tapes only)
  } else if (alpha >= 20) {
    const double u = std::fma(rate, x, -alpha) / alpha;
    value = alpha * (std::log1p(u) - u) + 0.5 * std::log(alpha) - half_log_2pi - stirling_correction(alpha) - log_x;
  } else {
    value = alpha * log_rate_x - rate_x - std::lgamma(alpha) - log_x;
  }
  return {value, {(alpha - 1) / x - rate, log_rate_x - digamma(alpha), alpha / rate - x}};
}

/// The Gamma(alpha, rate) entropy with its partials (alpha, rate), for scalar_log_density:
///   H = alpha - log rate + lgamma(alpha) + (1 - alpha) digamma(alpha)
///   dH/dalpha = 1 + (1 - alpha) trigamma(alpha) = trigamma(alpha) - (alpha trigamma(alpha) - 1)
///   dH/drate = -1 / rate
/// For alpha >= 20 the terms of size alpha log alpha cancel (at alpha = 1e6, lgamma is 1.3e7
/// and H about 8): with Stirling's lgamma and digamma(x) = log x - 1/(2x) + c'(x) they cancel
/// in closed form,
///   H = (1 + log(2 pi) + log alpha) / 2 - log rate + c(alpha) + (1 - alpha) c'(alpha) - 1/(2 alpha),
/// the last three terms small (~1/alpha) and free of cancellation.
inline ScalarLogDensity<2> gamma_entropy(const std::array<double, 2>& in) {
  constexpr double half_log_2pi_e = 1.4189385332046727418;  // (1 + log(2 pi)) / 2
  const double alpha = in[0], rate = in[1];
  const double d_alpha = trigamma(alpha) - trigamma_excess(alpha);
  double value = 0;
  if (alpha >= 20) {
    value = half_log_2pi_e + 0.5 * std::log(alpha) - std::log(rate) +
            (stirling_correction(alpha) + (1 - alpha) * stirling_correction_derivative(alpha) - 0.5 / alpha);
  } else {
    value = alpha - std::log(rate) + std::lgamma(alpha) + (1 - alpha) * digamma(alpha);
  }
  return {value, {d_alpha, -1 / rate}};
}

}  // namespace detail

template <class T>
class Gamma final : public Distribution<T> {
 public:
  /// Gamma(alpha, beta) for alpha > 0 and beta > 0, both finite (checked); batch_shape is the
  /// broadcast of both shapes.
  Gamma(const Var<T>& alpha, const Var<T>& beta, DistributionOptions options = {})
      : Distribution<T>(alpha.tape(), broadcast_parameter_shapes("Gamma", {alpha.shape(), beta.shape()}), Shape{},
                        options),
        m_alpha(alpha),
        m_beta(beta) {
    alpha.tape().check_handle("Gamma", beta);
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(alpha, "alpha", "positive and finite", positive_finite);
    this->check_values(beta, "beta", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "Gamma"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  Var<T> alpha() const { return m_alpha; }
  Var<T> beta() const { return m_beta; }
  /// E[x] = alpha / beta
  Var<T> mean() const override { return broadcast_to(m_alpha / m_beta, this->batch_shape()); }
  /// Var[x] = alpha / beta^2
  Var<T> variance() const override { return broadcast_to((m_alpha / m_beta) / m_beta, this->batch_shape()); }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "alpha") return m_alpha;
    if (parameter_name == "beta") return m_beta;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = alpha log beta - lgamma(alpha) + (alpha - 1) log x - beta x, in double
  /// (detail::gamma_log_density)
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_alpha, detach_parameters),
                                       this->maybe_detached(m_beta, detach_parameters)};
    return detail::scalar_log_density("Gamma.log_prob", inputs, detail::gamma_log_density);
  }

  /// g / beta, g ~ Gamma(alpha, 1) by Marsaglia-Tsang (detail::sample_log_standard_gamma);
  /// a draw below the smallest normal number of T (alpha << 1) is returned as that number,
  /// so that log_prob of every draw is finite. The gradient is the implicit one of the draw
  /// before that clamp (z d log g / d alpha and -z / beta; 0 where z underflows in double).
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const std::array<Var<T>, 2> parameters{m_alpha, m_beta};
    return detail::scalar_sample(
        "Gamma.sample", this->sample_shape(n), parameters, [&rng](const std::array<double, 2>& p, bool want_partials) {
          const double alpha = p[0], beta = p[1];
          const double log_g = detail::sample_log_standard_gamma(alpha, rng);
          const double z = std::exp(log_g - std::log(beta));
          const T value = std::max(static_cast<T>(z), std::numeric_limits<T>::min());
          if (!want_partials || z == 0) return detail::ScalarDraw<T, 2>{value, {}};
          const double dz_dalpha = z * detail::standard_gamma_log_draw_alpha_derivative(log_g, alpha);
          return detail::ScalarDraw<T, 2>{value, {dz_dalpha, -z / beta}};
        });
  }

  /// alpha - log beta + lgamma(alpha) + (1 - alpha) digamma(alpha), in double without the
  /// cancellation of its large terms (detail::gamma_entropy)
  Var<T> entropy_impl() const override {
    const std::array<Var<T>, 2> inputs{m_alpha, m_beta};
    return detail::scalar_log_density("Gamma.entropy", inputs, detail::gamma_entropy);
  }

 private:
  Var<T> m_alpha;
  Var<T> m_beta;
};

}  // namespace vaelib
