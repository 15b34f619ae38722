#pragma once
// InverseGamma: 1 / g for g ~ Gamma(alpha, beta): density beta^alpha x^(-alpha-1) exp(-beta / x)
// / Gamma(alpha) on x > 0, shape alpha > 0 and scale beta > 0. A value <= 0 or infinite gives
// log_prob -inf, a NaN value NaN. For alpha >= 20 log_prob is taken in a form where
// lgamma(alpha) does not cancel against alpha log(beta / x).
//
// Reparameterised by implicit reparameterisation, as Gamma: the draw z = beta / g, g ~ Gamma(alpha, 1),
// moves with g along its quantile at the draw's own CDF level, so
//   dz/dalpha = -z (d log g / d alpha)  (detail/gamma_cdf_gradient.hpp),  dz/dbeta = z / beta.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <string>
#include <string_view>

#include "vaelib/autodiff/ops.hpp"
#include "vaelib/distributions/detail/gamma_cdf_gradient.hpp"
#include "vaelib/distributions/detail/scalar_log_density.hpp"
#include "vaelib/distributions/detail/scalar_sample.hpp"
#include "vaelib/distributions/distribution.hpp"
#include "vaelib/distributions/gamma.hpp"

namespace vaelib {

template <class T>
class InverseGamma final : public Distribution<T> {
 public:
  /// InverseGamma(alpha, beta) for both > 0 and finite (checked); batch_shape is the broadcast
  /// of both shapes.
  InverseGamma(const Var<T>& alpha, const Var<T>& beta, DistributionOptions options = {})
      : Distribution<T>(alpha.tape(), broadcast_parameter_shapes("InverseGamma", {alpha.shape(), beta.shape()}),
                        Shape{}, options),
        m_alpha(alpha),
        m_beta(beta) {
    alpha.tape().check_handle("InverseGamma", beta);
    const auto positive_finite = [](T v) { return v > T(0) && v < std::numeric_limits<T>::infinity(); };
    this->check_values(alpha, "alpha", "positive and finite", positive_finite);
    this->check_values(beta, "beta", "positive and finite", positive_finite);
  }

  std::string_view name() const override { return "InverseGamma"; }
  Support<T> support() const override { return Support<T>::positive(); }
  bool is_reparameterized() const override { return true; }

  Var<T> alpha() const { return m_alpha; }
  Var<T> beta() const { return m_beta; }
  /// E[x] = beta / (alpha - 1) for alpha > 1, +inf otherwise
  Var<T> mean() const override {
    const Var<T> finite = this->mask(m_alpha, [](T v) { return v > T(1); });
    const Var<T> alpha = where(finite, m_alpha, this->tape().constant(T(2)));  // no 1 / 0 in the unused branch
    const Var<T> m = where(finite, m_beta / (alpha - T(1)), this->tape().constant(std::numeric_limits<T>::infinity()));
    return broadcast_to(m, this->batch_shape());
  }
  /// Var[x] = beta^2 / ((alpha - 1)^2 (alpha - 2)) for alpha > 2, +inf otherwise
  Var<T> variance() const override {
    const Var<T> finite = this->mask(m_alpha, [](T v) { return v > T(2); });
    const Var<T> alpha = where(finite, m_alpha, this->tape().constant(T(3)));  // no 1 / 0 in the unused branch
    const Var<T> v = where(finite, square(m_beta / (alpha - T(1))) / (alpha - T(2)),
                           this->tape().constant(std::numeric_limits<T>::infinity()));
    return broadcast_to(v, this->batch_shape());
  }

  Var<T> parameter(std::string_view parameter_name) const override {
    if (parameter_name == "alpha") return m_alpha;
    if (parameter_name == "beta") return m_beta;
    return Distribution<T>::parameter(parameter_name);
  }

 protected:
  /// log p(x) = alpha log beta - lgamma(alpha) - (alpha + 1) log x - beta / x,  x > 0;
  /// for alpha >= 20, with t = beta / (alpha x) and Stirling's lgamma:
  /// alpha (log1p(t - 1) - (t - 1)) + (log alpha - log 2 pi) / 2 - correction(alpha) - log x
  Var<T> log_prob_impl(const Var<T>& given, bool detach_parameters) const override {
    const std::array<Var<T>, 3> inputs{given, this->maybe_detached(m_alpha, detach_parameters),
                                       this->maybe_detached(m_beta, detach_parameters)};
    return detail::scalar_log_density("InverseGamma.log_prob", inputs, [](const std::array<double, 3>& a) {
      const double x = a[0], alpha = a[1], beta = a[2];
      if (x <= 0 || std::isinf(x)) return detail::outside_support<3>();
      const double log_x = std::log(x);
      double value = 0;
      if (alpha >= 20) {
        const double alpha_x = alpha * x;
        const double t_minus_1 = std::fma(-alpha, x, beta) / alpha_x;  // beta - alpha x, rounded once
        value = alpha * (std::log1p(t_minus_1) - t_minus_1) + 0.5 * (std::log(alpha) - std::log(2 * std::numbers::pi)) -
                detail::stirling_correction(alpha) - log_x;
      } else {
        value = alpha * std::log(beta) - std::lgamma(alpha) - (alpha + 1) * log_x - beta / x;
      }
      return detail::ScalarLogDensity<3>{
          value, {(beta / x - (alpha + 1)) / x, std::log(beta) - detail::digamma(alpha) - log_x, alpha / beta - 1 / x}};
    });
  }

  /// beta / g, g ~ Gamma(alpha, 1) by Marsaglia-Tsang (detail::sample_log_standard_gamma, in
  /// logs); a draw beyond T's largest finite number (tiny alpha) is returned as that number,
  /// with no gradient (the clamped value does not move), and so is a draw whose dz/dalpha is
  /// beyond T's range (float, alpha << 1: z near the cap times d log g / d alpha ~ 1/alpha^2)
  Var<T> sample_impl(std::size_t n, Rng& rng) const override {
    const std::array<Var<T>, 2> parameters{m_alpha, m_beta};
    return detail::scalar_sample(
        "InverseGamma.sample", this->sample_shape(n), parameters,
        [&rng](const std::array<double, 2>& p, bool want_partials) {
          constexpr double largest = static_cast<double>(std::numeric_limits<T>::max());
          const double alpha = p[0], beta = p[1];
          const double log_g = detail::sample_log_standard_gamma(alpha, rng);
          const double z = std::exp(std::log(beta) - log_g);
          const T value = static_cast<T>(std::min(z, largest));
          if (!want_partials || !(z <= largest)) return detail::ScalarDraw<T, 2>{value, {}};
          const double dz_dalpha = -z * detail::standard_gamma_log_draw_alpha_derivative(log_g, alpha);
          if (!(std::abs(dz_dalpha) <= largest)) return detail::ScalarDraw<T, 2>{value, {}};
          return detail::ScalarDraw<T, 2>{value, {dz_dalpha, z / beta}};
        });
  }

 private:
  Var<T> m_alpha;
  Var<T> m_beta;
};

}  // namespace vaelib
